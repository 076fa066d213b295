"""One fixed, realistic set of fields per kind, channel and locale, made by the real formatters."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.notify import format as fmt
from bot.notify.kinds import COMMON, KINDS, Audience, Channel, Kind
from bot.notify.render import ChangedStop, Choice, RouteStop

ZONE = ZoneInfo("Europe/Berlin")
LOCALES = ("en", "de", "fr")


@dataclass(frozen=True)
class Sample:
    brand: str
    name: str
    order_id: str
    track_url: str
    day: date
    place: dict[str, str]


REALISTIC = Sample(
    "Doorstep",
    "Christopher",
    "DS-104233",
    "https://dstp.eu/t/Ab3dE9",
    date(2026, 11, 23),
    {"en": "front door", "de": "Haustür", "fr": "porte d'entrée"},
)
# The longest values an SMS must still fit in: 12-character brand and name, a Wednesday in September.
LONGEST = Sample(
    "Bloomwood Co",
    "Maximilianus",
    "DS-10423399",
    "https://dstp.eu/t/Ab3dE9x",
    date(2026, 9, 23),
    {"en": "neighbour at no. 14", "de": "bei Nachbar Nr. 14", "fr": "chez le voisin au no 14"},
)

PHRASES = {
    "en": {
        "failed": "nobody was home",
        "refused": "your parcel is already on the van",
        "status": "out for delivery",
        "instructions": "Please leave it at the back door",
        "notes": "Dog in the yard",
        "staff": "Your parcel is back at the depot. We can bring it tomorrow morning.",
    },
    "de": {
        "failed": "niemand angetroffen",
        "refused": "Ihr Paket ist schon im Fahrzeug",
        "status": "unterwegs",
        "instructions": "Bitte an der Hintertür abstellen",
        "notes": "Hund im Hof",
        "staff": "Ihr Paket ist wieder im Depot. Wir können es morgen Vormittag bringen.",
    },
    "fr": {
        "failed": "personne n'était là",
        "refused": "votre colis est déjà dans le véhicule",
        "status": "en cours de livraison",
        "instructions": "Merci de le laisser à la porte arrière",
        "notes": "Chien dans la cour",
        "staff": "Votre colis est de retour à l'agence. Nous pouvons le livrer demain matin.",
    },
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def sample_fields(channel: Channel, locale: str, kind: Kind, sample: Sample = REALISTIC) -> dict[str, object]:
    """Exactly the fields `kind` declares, formatted for `channel` and `locale`."""
    values = {**_values(channel, locale, sample), **_per_kind(channel, locale, sample).get(kind, {})}
    if KINDS[kind].audience is Audience.DRIVER:
        values |= {"name": "Jonas", "order_id": "R-07"}
    return {name: values[name] for name in (*COMMON, *KINDS[kind].fields)}


def _values(channel: Channel, locale: str, s: Sample) -> dict[str, object]:
    day, phrases = s.day, PHRASES[locale]
    return {
        "brand": s.brand,
        "name": s.name,
        "order_id": s.order_id,
        "track_url": s.track_url,
        "day": fmt.day(day, locale, channel),
        "window": fmt.window(at(day, 14), at(day, 15), ZONE, channel),
        "old_window": fmt.window(at(day, 13), at(day, 14), ZONE, channel),
        "time": fmt.clock(at(day, 14, 20), ZONE),
        "minutes": 12,
        "stops_away": 3,
        "place": s.place[locale],
        "reason": phrases["failed"],
        "status": phrases["status"],
        "slots": fmt.slots(_new_windows(day), ZONE, locale, channel),
        "instructions": phrases["instructions"],
        "standing": True,
        "rating": 5,
        "choices": _choices(day, locale),
        "text": phrases["staff"],
    }


def _per_kind(channel: Channel, locale: str, s: Sample) -> dict[Kind, dict[str, object]]:
    return {
        Kind.CHANGE_REFUSED: {"reason": PHRASES[locale]["refused"]},
        Kind.DRIVER_ROUTE: {"stops": route_stops(s.day, channel, locale)},
        Kind.DRIVER_NOTES: {"stops": changed_stops(s.day, channel, locale)},
        Kind.DRIVER_STOP: {"stop": route_stops(s.day, channel, locale)[1], "total": 12},
    }


def _new_windows(day: date) -> list[tuple[datetime, datetime]]:
    tomorrow, after = day + timedelta(days=1), day + timedelta(days=2)
    return [
        (at(tomorrow, 10), at(tomorrow, 12)),
        (at(tomorrow, 14), at(tomorrow, 16)),
        (at(after, 8), at(after, 10)),
    ]


def _choices(day: date, locale: str) -> list[Choice]:
    return [
        Choice(n=1, sender="Bloomwood", order_id="DS-104233", day=fmt.day(day, locale)),
        Choice(n=2, sender="Kettle & Co", order_id="KC-99812", day=fmt.day(day + timedelta(days=1), locale)),
    ]


def route_stops(day: date, channel: Channel, locale: str) -> list[RouteStop]:
    def hours(start: int) -> str:
        return fmt.window(at(day, start), at(day, start + 1), ZONE, channel)

    return [
        RouteStop(
            seq=1,
            window=hours(9),
            name="Anna Schmidt",
            address="Hauptstraße 12, 10115 Berlin",
            notes="",
            instructions="",
            access_code="",
        ),
        RouteStop(
            seq=2,
            window=hours(10),
            name="Christopher Lee",
            address="Torstraße 88, 10119 Berlin",
            notes=PHRASES[locale]["notes"],
            instructions=PHRASES[locale]["instructions"],
            access_code="4711#",
        ),
        RouteStop(
            seq=3,
            window=hours(11),
            name="Mehmet Yilmaz",
            address="Invalidenstraße 5, 10115 Berlin",
            notes="",
            instructions="",
            access_code="B-2207",
        ),
    ]


def changed_stops(day: date, channel: Channel, locale: str) -> list[ChangedStop]:
    window = fmt.window(at(day, 14), at(day, 15), ZONE, channel)
    instructions = PHRASES[locale]["instructions"]
    return [
        ChangedStop(
            delivery_id=12,
            seq=2,
            name="Christopher Lee",
            address="Torstraße 88, 10119 Berlin",
            window=window,
            notes=PHRASES[locale]["notes"],
            instructions=instructions,
            access_code="B-2207",
            changed=["window", "instructions", "access_code"],
        ),
        ChangedStop(
            delivery_id=15,
            seq=5,
            name="Lena Vogel",
            address="Chausseestraße 21, 10115 Berlin",
            window=window,
            notes=PHRASES[locale]["notes"],
            instructions="",
            access_code="",
            changed=["removed"],
        ),
    ]
