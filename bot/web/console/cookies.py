"""The console's cookies: named `__Host-…` and Secure over https, and signed when the server must
know it wrote them.

Over https (a https public URL, or a request that came in over https) every console cookie is a
`__Host-` cookie: Secure, Path=/, no Domain, so neither a sibling subdomain nor a plain-http answer
can set or shadow it (https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes).
Values the server hands out and later trusts (the sign-in form's nonce, the flash message) carry an
HMAC under a key that lives only in this process, per purpose; a value without it reads as absent.
"""

import hashlib
import hmac

from fastapi import Request, Response

from bot.web import state

HOST_PREFIX = "__Host-"


def over_https(request: Request) -> bool:
    public = state.of(request).services.settings.web.public_url or ""
    return public.startswith("https://") or request.url.scheme == "https"


def name(request: Request, base: str) -> str:
    return HOST_PREFIX + base if over_https(request) else base


def read(request: Request, base: str) -> str | None:
    return request.cookies.get(name(request, base))


def write(request: Request, response: Response, base: str, value: str, *, path: str, age: int | None) -> None:
    https = over_https(request)
    response.set_cookie(
        name(request, base), value, max_age=age, path="/" if https else path,
        secure=https, httponly=True, samesite="lax",
    )  # fmt: skip


def forget(request: Request, response: Response, base: str, *, path: str) -> None:
    https = over_https(request)
    response.delete_cookie(
        name(request, base), path="/" if https else path, secure=https, httponly=True, samesite="lax"
    )


def mac(request: Request, purpose: str, value: str) -> str:
    """The server's HMAC of `value` for one purpose (a value signed for one is no good for another)."""
    key = state.of(request).console_cookie_key
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def sign(request: Request, purpose: str, value: str) -> str:
    return f"{value}.{mac(request, purpose, value)}"


def unsign(request: Request, purpose: str, signed: str | None) -> str | None:
    """The value the server signed, or None for anything else."""
    value, _, given = (signed or "").rpartition(".")
    genuine = hmac.compare_digest(given.encode(), mac(request, purpose, value).encode())
    return value if value and genuine else None
