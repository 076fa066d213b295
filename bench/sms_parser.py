"""How well replies are understood: the SMS parser against a hand-labelled corpus.

    python -m bench.sms_parser [--corpus tests/fixtures/sms/corpus.jsonl] [--misses]

Each line of the corpus is a message as people write them (English and German, typos, emoji, long
rambles), the question our last message asked, and the intent a careful support agent would read
in it, with its details (the slot, the day and time range, the place, the code, the stars). A
reading is right only when the intent and every labelled detail match. A miss read as NotUnderstood
goes to support (the recipient gets a short helpful answer); a miss read as something else would
act wrongly, and is counted apart; of those, a silent one is a wrong action that neither reaches a
person (support, a missing-parcel report) nor asks the recipient back (times offered, "where shall we
leave it?", the help text). Relative days are read as if today were Monday 2026-11-30, and the window
the recipient was told is 14:00-15:00 that day (as in the messages the corpora answer): a time in words
that this window fits is answered as a confirmation (bot.usecases.respond._wished), so it is right
where a yes was meant. A message that does several things (intents.Several) is right when its parts are
the labelled intent and its `also` list, the labelled details on the matching part.
Last line: `sms_parser n=N accuracy_pct=X silent=S`.
"""

import argparse
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import intents
from bot.domain.intents import Intent
from bot.handlers import sms_text
from bot.usecases.rescheduling import fits

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sms" / "corpus.jsonl"
TODAY = date(2026, 11, 30)
# The corpus's slot question offers three times ("Reply 1 for 14:00-15:00, 2 for ..., 3 for ...").
OFFERED = [["2026-11-30T13:00:00+00:00", "2026-11-30T14:00:00+00:00"]] * 3
TOLD = (datetime(2026, 11, 30, 14, tzinfo=UTC), datetime(2026, 11, 30, 15, tzinfo=UTC))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    locale: str
    asked: str | None
    expected: dict[str, Any]


@dataclass(frozen=True)
class Reading:
    case: Case
    got: Intent
    right: bool

    @property
    def to_support(self) -> bool:
        return isinstance(self.got, intents.NotUnderstood)

    @property
    def silent(self) -> bool:
        """Wrong, and nobody hears of it: not for a person to read, no question back to the recipient."""
        parts = self.got.parts if isinstance(self.got, intents.Several) else (self.got,)
        return not self.right and not any(_heard(part) for part in parts)


def _heard(got: Intent) -> bool:
    """The reading asks the recipient back or reaches a person."""
    asks_back = isinstance(got, intents.AskSlots | intents.AskInstructions | intents.Help) or (
        isinstance(got, intents.Reschedule) and got.slot is None
    )
    to_a_person = intents.NotUnderstood | intents.Person | intents.NotReceived
    return asks_back or isinstance(got, to_a_person) or (isinstance(got, intents.Comment) and got.asks)


def load(path: Path = CORPUS) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            expected = {k: v for k, v in row.items() if k not in {"text", "locale", "asked"}}
            cases.append(Case(n, row["text"], row["locale"], row["asked"], expected))
    return cases


def read(case: Case) -> Reading:
    asked: dict[str, Any] = {"question": case.asked, "slots": OFFERED} if case.asked == "slot" else {}
    asked |= {"question": case.asked} if case.asked else {}
    got = sms_text.parse(case.text, asked, TODAY)
    return Reading(case, got, _right(got, case.expected))


def _right(got: Intent, expected: dict[str, Any]) -> bool:
    if isinstance(got, intents.Several):
        wanted = {expected["intent"], *expected.get("also", ())}
        main = [part for part in got.parts if name(part) == expected["intent"]]
        return {name(part) for part in got.parts} == wanted and _details_match(main[0], expected)
    if expected["intent"] == "confirm" and isinstance(got, intents.Reschedule) and got.wish is not None:
        return fits(TOLD, got.wish, ZoneInfo("UTC"), TODAY)  # "I'll be in all afternoon"
    return name(got) == expected["intent"] and _details_match(got, expected)


def name(intent: Intent) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(intent).__name__).lower()


def _details_match(got: Intent, expected: dict[str, Any]) -> bool:
    match got:
        case intents.Reschedule(slot=slot, wish=wish):
            if "slot" in expected:
                return bool(slot == expected["slot"])
            said = (_day(expected.get("day")), expected.get("after"), expected.get("before"))
            return wish is not None and (wish.day, _hm(wish.after), _hm(wish.before)) == said
        case intents.SafeDrop(place=place, standing=standing):
            return (place.value, standing) == (expected["place"], expected.get("standing", False))
        case intents.AccessCode(code=code):
            return bool(code == expected["code"])
        case intents.Rate(stars=stars):
            return bool(stars == expected["stars"])
    return True


def _day(label: str | None) -> date | None:
    if label is None:
        return None
    relative = {"today": 0, "tomorrow": 1}
    if label in relative:
        return TODAY + timedelta(days=relative[label])
    if label in WEEKDAYS:
        return TODAY + timedelta(days=(WEEKDAYS.index(label) - TODAY.weekday()) % 7)
    return date.fromisoformat(label)


def _hm(moment: Any) -> str | None:
    return None if moment is None else str(moment.strftime("%H:%M"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    cases = load(args.corpus)
    started = time.perf_counter()
    readings = [read(case) for case in cases]
    per_message_ms = (time.perf_counter() - started) * 1000 / len(cases)
    misses = [r for r in readings if not r.right]
    by_intent = Counter(r.case.expected["intent"] for r in misses)
    if args.misses:
        for r in misses:
            print(
                f"line {r.case.line}: {r.case.text!r} asked={r.case.asked} want={r.case.expected} got={r.got}"
            )
    print(f"misses by expected intent: {dict(by_intent.most_common())}")
    wrong = sum(1 for r in misses if not r.to_support)
    print(f"misses sent to support={len(misses) - wrong} misses acting wrongly={wrong}")
    print(f"per message {per_message_ms:.3f} ms")
    right = len(readings) - len(misses)
    silent = sum(r.silent for r in readings)
    print(f"sms_parser n={len(readings)} accuracy_pct={100 * right / len(readings):.1f} silent={silent}")


if __name__ == "__main__":
    main()
