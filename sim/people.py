"""Simulated recipients and drivers for the demo day: they read what the sandbox delivered and act on it.

Recipients answer the way people do: some confirm, some move the time, leave instructions, ignore
everything, write nonsense or opt out, each after a while. Drivers start their shift, drive their
current route (re-read after every stop, so re-plans take effect) as the world of sim/traffic.py
lets them, press "arrived" at each door, and sometimes find nobody at home.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.channels.sandbox import SandboxSent
from eta.geo import LatLon


class Habit(StrEnum):
    CONFIRMS = "confirms"
    RESCHEDULES = "reschedules"
    INSTRUCTS = "instructs"
    IGNORES = "ignores"
    RAMBLES = "rambles"
    OPTS_OUT = "opts_out"
    ASKS = "asks"


HABITS = [
    (Habit.CONFIRMS, 34),
    (Habit.RESCHEDULES, 12),
    (Habit.INSTRUCTS, 12),
    (Habit.IGNORES, 28),
    (Habit.RAMBLES, 6),
    (Habit.OPTS_OUT, 3),
    (Habit.ASKS, 5),
]
SAYS = {
    "en": {
        Habit.CONFIRMS: ["1", "YES", "ok thanks", "Yes!"],
        Habit.INSTRUCTS: ["SAFE back door", "SAFE garage", "SAFE neighbour no. 12", "CODE 4711"],
        Habit.RAMBLES: [
            "who is this",
            "I ordered shoes, not a parcel?",
            "can you come at 3 or maybe 4 or not at all",
        ],
        Habit.ASKS: ["STATUS", "where is it?", "person"],
    },
    "de": {
        Habit.CONFIRMS: ["1", "JA", "ok danke", "Passt"],
        Habit.INSTRUCTS: ["ABLAGE Hintertür", "ABLAGE Garage", "ABLAGE Nachbar Nr. 12", "CODE 4711"],
        Habit.RAMBLES: ["wer ist da", "Ich habe nichts bestellt", "kommen Sie lieber irgendwann nachmittags"],
        Habit.ASKS: ["STATUS", "wo ist mein Paket?", "Mitarbeiter"],
    },
}


@dataclass
class Person:
    delivery_id: int
    locale: str
    habit: Habit
    opted_out: bool = False


@dataclass(order=True)
class Planned:
    at: datetime
    delivery_id: int = field(compare=False)
    text: str = field(compare=False)


class Recipients:
    """Decides, for every message a recipient receives, whether and what they answer, and when."""

    def __init__(self, rng: random.Random, people: dict[str, Person]) -> None:
        self.rng = rng
        self.people = people  # by address
        self.queue: list[Planned] = []

    def read(self, sent: list[SandboxSent], now: datetime) -> None:
        for message in sent:
            person = self.people.get(message.address)
            if person is not None and not person.opted_out:
                text = self._answer(person, message.kind)
                if text is not None:
                    delay = timedelta(minutes=self.rng.uniform(1, 40))
                    self.queue.append(Planned(now + delay, person.delivery_id, text))

    def due(self, now: datetime) -> list[Planned]:
        ready = sorted(p for p in self.queue if p.at <= now)
        self.queue = [p for p in self.queue if p.at > now]
        return ready

    def _answer(self, person: Person, kind: str) -> str | None:
        says = SAYS["de" if person.locale.startswith("de") else "en"]
        answers: dict[str, Callable[[], str | None]] = {
            "pre-delivery": lambda: self._first_answer(person, says),
            "slots-offered": self._pick_slot,
            "failed": self._pick_slot,
            "instructions-asked": lambda: self.rng.choice(says[Habit.INSTRUCTS]),
            "which-delivery": lambda: "1",
            "delivered": lambda: self._after_delivery(person),
        }
        answer = answers.get(kind)
        return answer() if answer else None

    def _pick_slot(self) -> str | None:
        return self.rng.choice(["1", "1", "2"]) if self.rng.random() < 0.85 else None

    def _after_delivery(self, person: Person) -> str | None:
        roll = self.rng.random()
        if roll < 0.03:
            return "not received" if person.locale == "en" else "nicht erhalten"
        return self.rng.choice(["5", "5", "4", "4", "3", "2", "1"]) if roll < 0.5 else None

    def _first_answer(self, person: Person, says: dict[Habit, list[str]]) -> str | None:
        match person.habit:
            case Habit.RESCHEDULES:
                return "2"
            case Habit.IGNORES:
                return None
            case Habit.OPTS_OUT:
                person.opted_out = True
                return "STOP"
            case Habit.INSTRUCTS if self.rng.random() < 0.5:
                return "3"
        return self.rng.choice(says[person.habit])


def habits(rng: random.Random, count: int) -> list[Habit]:
    names, weights = zip(*HABITS, strict=True)
    return rng.choices(list(names), weights=list(weights), k=count)


@dataclass
class Van:
    """Where a simulated driver is and what they do next: drive to `heading_to` until `arrives`, wait
    there for `opens` (the promised window), and leave when `busy_until` has come."""

    driver_id: int
    shift_start: datetime
    pace: float  # > 1: slower than the planner thinks (a slow driver; sim/traffic.py)
    at: LatLon
    started: bool = False
    heading_to: int | None = None  # delivery id
    arrives: datetime | None = None
    opens: datetime | None = None
    service_s: int = 0  # configured
    busy_until: datetime | None = None  # set on arrival
    done: bool = False

    @property
    def next_move(self) -> datetime | None:
        """When this van does something next on its own: starts, reaches the door, or leaves it."""
        if self.done:
            return None
        if not self.started:
            return self.shift_start
        return self.busy_until or self.arrives
