"""The console's Jinja environment (HTML, always autoescaped) and the one way pages are rendered."""

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from bot.web import state
from bot.web.console import cookies

FLASH_COOKIE = "doorstep_flash"  # what the last action did, shown once on the next page (signed)
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "console"
# No scripts at all: the board refreshes with <meta http-equiv="refresh">, charts are inline SVG,
# styles are inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden input every console form carries: `{{ csrf_field() }}`."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(context["csrf_token"])


def hm(moment: datetime | None, zone: str) -> str:
    """'14:05' in the zone the delivery happens in; a dash for no time."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M") if moment else "–"


def when(moment: datetime | None, zone: str) -> str:
    """'Mon 23 Nov 14:05' in the delivery's zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M") if moment else "–"


def window(span: tuple[datetime, datetime] | None, zone: str) -> str:
    """'14:00-15:00' (with the day when it is not the same for both ends)."""
    if span is None:
        return "–"
    start, end = (t.astimezone(ZoneInfo(zone)) for t in span)
    day = "" if start.date() == end.date() else end.strftime("%a %d %b ")
    return f"{start:%a %d %b %H:%M}–{day}{end:%H:%M}"


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """The console's own environment: every template is HTML, so everything is escaped."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["csrf_field"] = csrf_field
    env.filters.update(hm=hm, when=when)
    env.globals["window"] = window
    env.globals["new_nonce"] = new_nonce
    return env


def new_nonce() -> str:
    """A fresh id for one filled-in form, so submitting it twice acts once: `{{ new_nonce() }}`."""
    return secrets.token_urlsafe(16)


def flash(request: Request, response: Response, text: str) -> Response:
    """Show `text` on the next console page rendered (see `render`)."""
    signed = cookies.sign(request, FLASH_COOKIE, quote(text[:300]))
    cookies.write(request, response, FLASH_COOKIE, signed, path="/console", age=None)
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A console page; the layout gets the signed-in user (if any) and the form token."""
    env = state.of(request).console_templates
    context.setdefault("staff", getattr(request.state, "staff", None))
    context.setdefault("csrf_token", getattr(request.state, "console_csrf", ""))
    sent = cookies.read(request, FLASH_COOKIE)
    shown = cookies.unsign(request, FLASH_COOKIE, sent)  # only what this server wrote
    context.setdefault("flash", unquote(shown) if shown else None)
    html = env.get_template(template).render(request_path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if sent is not None:
        cookies.forget(request, response, FLASH_COOKIE, path="/console")
    return response
