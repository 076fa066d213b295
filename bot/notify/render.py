"""Message text from the templates in bot/templates/{channel}/{locale}/{kind}.j2.

One Jinja `Environment` per application (`make_environment`), one `Renderer` on top of it that
checks the fields against `kinds.KINDS` before anything is rendered. Recipient text (names,
instructions, staff replies) is only ever a value: Telegram templates autoescape it for HTML parse
mode, SMS templates print it literally, and nothing a person wrote is compiled as a template.

List fields are lists of small mappings. The renderer checks top-level names only; the keys are:

`slots` (failed, slots-offered): `format.Slot`, built by `format.slots()`
    n: int          the number an SMS reply uses (1, 2, 3)
    day, window     formatted for the locale and channel
    label           the whole choice: SMS "1) Tue 24 Nov 10:00-12:00", Telegram "Tue 24 Nov, 10:00-12:00"
                    (with an en dash; also the Telegram button text)
`choices` (which-delivery): `Choice`
    n: int, sender (shop or brand), order_id, day
`stops` (driver-route): `RouteStop`
    seq: int, window, name, address, notes (the shipper's, from the import; "" if none),
    instructions (the recipient's; "" if none), access_code ("" if none; shown only to drivers)
`stops` (driver-notes): `ChangedStop`, only the stops that changed
    delivery_id: int, seq: int, name, address, window, notes, instructions ("" if removed),
    access_code, changed: some of "added", "order", "window", "instructions", "access_code",
    "removed", "again" (sent once more: the driver has not pressed "Got it"; shows the stop as it is)
`stop` (driver-stop): one `RouteStop`, the driver's next stop; `total` (int) is the route's stop count

Other values: `minutes`, `stops_away`, `rating` (1-5) are ints; `standing` is a bool (the
instructions apply to future deliveries too); `reason`, `status` and `place` are short localized
phrases without a final full stop ("nobody was home", "out for delivery", "front door").
No recipient kind carries any character of an access code. For driver kinds `order_id` is the route's id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from bot.channels import registry
from bot.notify.format import locale_chain
from bot.notify.kinds import COMMON, KINDS, Kind
from bot.notify.segments import Encoding

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class Choice(TypedDict):
    n: int
    sender: str
    order_id: str
    day: str


class RouteStop(TypedDict):
    seq: int
    window: str
    name: str
    address: str
    notes: str
    instructions: str
    access_code: str


type StopChange = Literal["added", "order", "window", "instructions", "access_code", "removed", "again"]


class ChangedStop(TypedDict):
    delivery_id: int  # not shown: what a "Got it" under the note acknowledges
    seq: int
    name: str
    address: str
    window: str
    notes: str
    instructions: str
    access_code: str  # the driver's own chat is their stop card: the code is shown there, nowhere else
    changed: Sequence[StopChange]


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel. `locale` is the template's; `segments` is what the channel's
    rules count: SMS segments, or the Telegram messages it needs (1 unless a long route)."""

    text: str
    channel: str
    kind: Kind
    locale: str
    segments: int
    encoding: Encoding | None


def make_environment(templates_dir: Path | None = None) -> Environment:
    """The application's one Jinja environment: strict, autoescaped for channels that take HTML only.
    Templates come from `templates_dir`, then from the folders of channels registered with their own."""
    own = [spec.templates for spec in registry.specs() if spec.templates is not None]
    return Environment(
        loader=FileSystemLoader([templates_dir or TEMPLATES_DIR, *own]),
        undefined=StrictUndefined,
        autoescape=_is_html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )


class Renderer:
    """Renders a message kind for a channel and locale from exactly the fields the kind declares."""

    def __init__(self, env: Environment) -> None:
        self._env = env

    def render(self, channel: str, locale: str, kind: Kind, fields: Mapping[str, object]) -> Rendered:
        check(channel, kind, fields)
        template = self.template(channel, locale, kind)
        text = template.render(fields).strip()
        encoding, segments = registry.get(channel).rules.parts(text)
        return Rendered(text, channel, kind, _locale_of(template), segments, encoding)

    def template(self, channel: str, locale: str, kind: Kind) -> Template:
        """The most specific template for `locale`: "de-AT", then "de", then "en"."""
        return self._env.select_template([template_name(channel, tag, kind) for tag in locale_chain(locale)])


def template_name(channel: str, locale: str, kind: Kind) -> str:
    return f"{channel}/{locale}/{kind.value}.j2"


def check(channel: str, kind: Kind, fields: Mapping[str, object]) -> None:
    """ValueError unless `kind` may go out on `channel` with exactly its declared fields."""
    spec = KINDS[kind]
    if spec.audience not in registry.get(channel).audiences:
        raise ValueError(f"{kind.value} is for {spec.audience.value}s and cannot go out by {channel}")
    expected = {*COMMON, *spec.fields}
    problems = [
        f"{label}: {', '.join(sorted(names))}"
        for label, names in (("missing", expected - fields.keys()), ("unexpected", fields.keys() - expected))
        if names
    ]
    if problems:
        raise ValueError(f"{kind.value} fields: {'; '.join(problems)}")


def _is_html(name: str | None) -> bool:
    """Whether the template `name` (<channel>/<locale>/<kind>.j2) is for a channel that takes HTML."""
    channel = (name or "").partition("/")[0]
    return channel in registry.names() and registry.get(channel).rules.markup == "html"


def _locale_of(template: Template) -> str:
    return (template.name or "").split("/")[1]
