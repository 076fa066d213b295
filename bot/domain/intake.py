"""One validator for every way deliveries come in: CSV, JSON files and POST /api/deliveries."""

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.domain.deliveries import Depot

REQUIRED = (
    "order_id",
    "name",
    "phone",
    "address",
    "lat",
    "lon",
    "date",
    "window_start",
    "window_end",
    "service_minutes",
    "size",
)
OPTIONAL = ("notes", "locale", "email", "depot", "timezone", "skills")
_LOCALE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z]{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_SERVICE_MINUTES = 240
MAX_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected input row: where it was (CSV line, JSON item) and every problem with it."""

    row: int
    errors: tuple[FieldError, ...]
    raw: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class DeliveryInput:
    """A validated delivery, times already in UTC."""

    order_id: str
    name: str
    phone: str
    address: str
    lat: float
    lon: float
    date: date
    window_start: datetime
    window_end: datetime
    service_s: int
    size: int
    timezone: str
    locale: str
    notes: str = ""
    email: str | None = None
    depot: str | None = None
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntakeContext:
    """What validation needs to know about the world: defaults and the known depots."""

    phone_region: str
    timezone: str
    locale: str
    depots: Mapping[str, Depot] = field(default_factory=dict)


@dataclass
class Batch:
    good: list[tuple[int, DeliveryInput]]
    bad: list[RowError]


def row_label(number: int) -> str:
    return f"row {number}"


def validate_batch(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    ctx: IntakeContext,
    label: Callable[[int], str] = row_label,
) -> Batch:
    """Validate numbered rows; a repeated order id is an error on its later occurrence.

    `label` names a row the way its reader counts (CSV line 7, JSON item 3, body[2]).
    """
    batch = Batch(good=[], bad=[])
    first_seen: dict[str, int] = {}
    for number, raw in rows:
        result = validate_delivery(raw, ctx)
        if isinstance(result, DeliveryInput) and result.order_id in first_seen:
            result = [
                FieldError("order_id", f"duplicate of {label(first_seen[result.order_id])} in this input")
            ]
        if isinstance(result, DeliveryInput):
            first_seen[result.order_id] = number
            batch.good.append((number, result))
        else:
            batch.bad.append(RowError(number, tuple(result), raw))
    return batch


def validate_delivery(raw: Mapping[str, object], ctx: IntakeContext) -> DeliveryInput | list[FieldError]:
    """Check one row; return the delivery or every problem found (not just the first)."""
    v = _Checker(raw)
    order_id = v.text("order_id", max_len=100)
    name = v.text("name", max_len=200)
    address = v.text("address", max_len=500)
    phone = v.phone("phone", ctx.phone_region)
    lat = v.number("lat", -90.0, 90.0)
    lon = v.number("lon", -180.0, 180.0)
    if lat == 0.0 and lon == 0.0:
        v.fail("lat", "0,0 is not an address (a missing geocode?)")
    day = v.day("date")
    depot = v.depot(ctx.depots)
    zone = v.zone(depot.timezone if depot else ctx.timezone)
    start = v.local_time("window_start", day, zone)
    end = v.local_time("window_end", day, zone)
    if start and end and end <= start:
        v.fail("window_end", f"must be after window_start ({raw.get('window_start')})")
    service = v.number("service_minutes", 0.0, MAX_SERVICE_MINUTES)
    size = v.integer("size", 1, MAX_SIZE)
    locale = v.locale(ctx.locale)
    email = v.email()
    if v.errors or not (day and zone and start and end and size):
        return v.errors
    return DeliveryInput(
        order_id=order_id,
        name=name,
        phone=phone,
        address=address,
        lat=lat,
        lon=lon,
        date=day,
        window_start=start,
        window_end=end,
        service_s=round(service * 60),
        size=size,
        timezone=zone.key,
        locale=locale,
        notes=v.text("notes", max_len=2000, required=False),
        email=email,
        depot=depot.code if depot else None,
        skills=v.skills(),
    )


def e164(text: str, region: str) -> str | None:
    """The number in E.164 if `text` is a valid phone number, else None."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    valid = phonenumbers.is_valid_number(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if valid else None


class _Checker:
    """Collects field errors while converting raw values; every getter returns a usable default."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(FieldError(name, reason))

    def value(self, name: str) -> str:
        value = self.raw.get(name)
        if value is None or isinstance(value, bool):
            return "" if value is None else str(value)
        return str(value).strip()

    def text(self, name: str, *, max_len: int, required: bool = True) -> str:
        value = self.value(name)
        if required and not value:
            self.fail(name, "is required")
        elif len(value) > max_len:
            self.fail(name, f"is longer than {max_len} characters")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        text = self.value(name)
        if not text:
            self.fail(name, "is required")
            return 0.0
        try:
            value = float(text.replace(",", ".", 1) if "." not in text else text)  # 52,51 as written in DE
        except ValueError:
            self.fail(name, f"{text!r} is not a number")
            return 0.0
        if not math.isfinite(value) or not low <= value <= high:
            self.fail(name, f"{text} is out of range ({low:g} to {high:g})")
        return value

    def integer(self, name: str, low: int, high: int) -> int | None:
        text = self.value(name)
        if not text:
            self.fail(name, "is required")
            return None
        try:
            value = int(float(text)) if float(text).is_integer() else None
        except ValueError:
            value = None
        if value is None:
            self.fail(name, f"{text!r} is not a whole number")
        elif not low <= value <= high:
            self.fail(name, f"must be between {low} and {high} (got {value})")
            return None
        return value

    def phone(self, name: str, region: str) -> str:
        text = self.value(name)
        if not text:
            self.fail(name, "is required")
            return ""
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException as exc:
            self.fail(name, f"{text!r} is not a phone number ({exc._msg})")
            return ""
        if not phonenumbers.is_valid_number(parsed):
            self.fail(name, f"{text!r} is not a valid number (read with default region {region})")
            return ""
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def day(self, name: str) -> date | None:
        text = self.value(name)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(name, "is required" if not text else f"{text!r} is not a date (YYYY-MM-DD)")
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, f"{text!r} is not a real calendar date")
            return None

    def local_time(self, name: str, day: date | None, zone: ZoneInfo | None) -> datetime | None:
        text = self.value(name)
        match = _HHMM.match(text)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            reason = f"{text!r} is not a time of day (HH:MM, 00:00-23:59)"
            self.fail(name, reason if text else "is required")
            return None
        if day is None or zone is None:
            return None
        local = datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=zone)
        utc = local.astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            self.fail(name, f"{text} does not exist on {day} in {zone.key} (clocks change)")
            return None
        return utc

    def zone(self, default: str) -> ZoneInfo | None:
        name = self.value("timezone") or default
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail("timezone", f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
            return None

    def depot(self, depots: Mapping[str, Depot]) -> Depot | None:
        code = self.value("depot")
        if code and code not in depots:
            known = ", ".join(sorted(depots)) or "none yet"
            self.fail("depot", f"unknown depot {code!r} (known: {known})")
        return depots.get(code) if code else None

    def locale(self, default: str) -> str:
        text = self.value("locale")
        if text and not _LOCALE.match(text):
            self.fail("locale", f"{text!r} is not a language tag (e.g. en, de, de-AT)")
        return (text or default).replace("_", "-")

    def email(self) -> str | None:
        text = self.value("email")
        if text and not _EMAIL.match(text):
            self.fail("email", f"{text!r} is not an e-mail address")
        return text or None

    def skills(self) -> tuple[str, ...]:
        raw = self.raw.get("skills")
        parts: Sequence[object] = raw if isinstance(raw, list) else re.split(r"[;,|]", self.value("skills"))
        return tuple(sorted({str(p).strip() for p in parts if str(p).strip()}))
