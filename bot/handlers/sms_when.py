"""Times in a recipient's own words: "tomorrow after 5", "Friday morning", "morgen ab 17 Uhr".

`wish(text, today)` reads a day and a time range out of free text, in the recipient's local time.
The text is normalised first (`normalise`: lower case, ä → ae, ß → ss), so every pattern here is
written in that spelling. The rules, in the order they apply:

- Days: today/heute, tomorrow/morgen (not "guten Morgen" or "am Morgen"), übermorgen, weekdays
  (the next one from today; today itself when it is that day), and dates "3.12.", "03.12.2026",
  "3/12", "3rd December", "3. Dezember" (day before month; the next such date from today).
- Times: "after 5", "ab 17 Uhr", "from 6pm", "not home until 6" (until, after a "not" or "at work",
  means after), "before 10", "bis 10 Uhr", "between 2 and 4", "14-16 Uhr", "around 3"/"um 15 Uhr"
  (that hour), and parts of the day (morning 8-12, lunchtime 12-14, afternoon 12-17, evening 17-21,
  after lunch 13, after work 17). A bare hour 1-7 is in the afternoon, 8-11 in the morning unless
  the text says evening or pm.
- A clause that says no to a day ("not tomorrow", "Freitag geht nicht") does not make it the wish.
"""

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.domain.intents import Wish

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "´": "'", "`": "'"})


# Regional spellings (Bavarian, Austrian, Swiss, Berlin) read as the standard word, after the umlauts.
_DIALECT = {
    "ned": "nicht",
    "nid": "nicht",
    "noed": "nicht",
    "nit": "nicht",
    "ick": "ich",
    "uff": "auf",
    "isch": "ist",
    "des": "das",
    "guet": "gut",
    "bim": "beim",
    "dehei": "daheim",
    "dihei": "daheim",
    "dahoam": "daheim",
    "daham": "daheim",
    "dahoim": "daheim",
    "zhaus": "zuhause",
    "morgn": "morgen",
    "moang": "morgen",
    "namittag": "nachmittag",
    "nomittag": "nachmittag",
    "noamittag": "nachmittag",
    "abig": "abend",
    "obend": "abend",
    "znacht": "abends",
    "maentig": "montag",
    "zischtig": "dienstag",
    "mittwuch": "mittwoch",
    "dunnschtig": "donnerstag",
    "donnschtig": "donnerstag",
    "fritig": "freitag",
    "samschtig": "samstag",
    "sunntig": "sonntag",
    "waenn": "wann",
    "kimmt": "kommt",
    "kummt": "kommt",
    "chunnt": "kommt",
    "chunt": "kommt",
    "kemma": "kommen",
    "cho": "kommen",
    "vorbeicho": "vorbeikommen",
    "nochber": "nachbar",
    "nochbar": "nachbar",
    "nochbarn": "nachbarn",
    "nachbere": "nachbarin",
    "garasch": "garage",
    "packl": "paket",
    "packerl": "paket",
    "paeckli": "paket",
    "paeckle": "paket",
    "paeckchen": "paket",
    "abgae": "abgeben",
    "abgaeh": "abgeben",
    "abgebn": "abgeben",
    "legts": "legen",
    "afach": "einfach",
}
_DIALECT_WORDS = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, _DIALECT)) + r")(?!\w)")
_EVENING_DIALECT = re.compile(r"\b(auf|af|uf) d'? ?(nacht|nocht)\b")


def normalise(text: str) -> str:
    """Lower case, ä → ae, ß → ss, one space between words, regional spellings as the standard word."""
    plain = " ".join(text.lower().translate(_UMLAUTS).split())
    return _EVENING_DIALECT.sub("abends", _DIALECT_WORDS.sub(lambda m: _DIALECT[m[1]], plain))


def words(*alternatives: str) -> re.Pattern[str]:
    """One pattern matching any of `alternatives` (regular expressions) as whole words."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# --- days ----------------------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        "monday mon montag montags",
        "tuesday tue tues tuesay dienstag dienstags",
        "wednesday wed weds wensday wednsday wedensday mittwoch mittwochs",
        "thursday thu thur thurs thrusday donnerstag donnerstags",
        "friday fri firday freitag freitags",
        "saturday sat samstag samstags sonnabend",
        "sunday sonntag sonntags",
    )
):
    _WEEKDAYS.update(dict.fromkeys(_names.split(), _n))

_MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        "january jan januar jaenner",
        "february feb februar",
        "march mar maerz",
        "april apr",
        "may mai",
        "june jun juni",
        "july jul juli",
        "august aug",
        "september sep sept",
        "october oct oktober okt",
        "november nov",
        "december dec dezember dez",
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _n))

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_RELATIVE = (
    (re.compile(r"\b(uebermorgen|day after tomorrow)\b"), 2),
    (re.compile(r"\b(today|tonight|todays|heute|heut|this (morning|afternoon|evening))\b"), 0),
    (re.compile(r"\b(tomorrow|tomorow|tommorow|tommorrow|tomorrw|tmrw|tmr|tmrrw|2moro|2morrow|tomoz)\b"), 1),
    # "morgen" is tomorrow, but not in "guten Morgen", "am Morgen", "jeden Morgen", "morgens"
    (re.compile(r"(?<!guten )(?<!gute )(?<!am )(?<!jeden )(?<!den )\bmorgen\b(?! ?frueh\w)"), 1),
)
_WEEKDAY = re.compile(r"\b(?P<next>next |naechsten |naechste |kommenden |kommende )?(?P<name>[a-z]+)\b")
_DOTTED = re.compile(r"(?<![\d.:])(?P<d>[0-3]?\d)\.\s?(?P<m>[01]?\d)\.(?P<y>(20)?\d\d)?(?![\d:])")
_DOTTED_BARE = re.compile(r"(?<![\d.:])(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)(?![\d.:])(?!\s?(?:uhr|h\b|am\b|pm\b))")
_TIME_WORDS = frozenset(
    [
        "ab",
        "um",
        "bis",
        "after",
        "at",
        "before",
        "gegen",
        "from",
        "von",
        "nach",
        "vor",
        "until",
        "till",
        "by",
        "around",
        "about",
    ]
)
# "So" is Sunday only with its dot or a date after it: "so ab 5", "so zwischen 12 und 1" say "about".
_SHORT_DE = re.compile(
    r"\b(?P<name>mo|di|mi|do|fr|sa)\.?"
    r"(?=,? (?:\d|vormittag|nachmittag|abend|morgen|mittag|frueh|ab |bis |zwischen|um ))"
    r"|\b(?P<sunday>so)(?:\.,? (?=\d|vormittag|nachmittag|abend|morgen|mittag|frueh|ab |bis |zwischen|um )"
    r"|,? (?=\d{1,2}\.\d))"
)
_SHORT_DAYS = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6}
_SLASHED = re.compile(r"(?<![\d/])(?P<d>[0-3]?\d)/(?P<m>[01]?\d)(?:/(?P<y>(20)?\d\d))?(?![\d/])")
_ORDINAL = re.compile(
    r"\b(?:the|on the|den|am|zum)\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th|ten|\.)(?![\d.])"
    r"(?!\s*(?:one|option|slot|choice|stop|time|termin|floor|stock|of (?!" + _MONTH + r")))"
)
_NAMED = re.compile(
    rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th|\.)?\s*(?:of\s+)?(?P<mon>{_MONTH})\b"
    rf"|\b(?P<mon2>{_MONTH})\.?\s+(?:the\s+)?(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\b"
)


def days(text: str, today: date) -> list[tuple[int, date]]:
    """Every day named in `text` (normalised), with where it was named."""
    found: list[tuple[int, date]] = []
    for pattern, offset in _RELATIVE:
        found += [(m.start(), today + timedelta(days=offset)) for m in pattern.finditer(text)]
    for m in _WEEKDAY.finditer(text):
        weekday = _WEEKDAYS.get(m["name"])
        if weekday is not None and not _short_word_in_english(m["name"], text, m.end()):
            ahead = (weekday - today.weekday()) % 7 or (7 if m["next"] else 0)
            found.append((m.start(), today + timedelta(days=ahead)))
    for m in _SHORT_DE.finditer(text):
        weekday = _SHORT_DAYS[m["name"] or m["sunday"]]
        found.append((m.start(), today + timedelta(days=(weekday - today.weekday()) % 7)))
    for m in (*_DOTTED.finditer(text), *_SLASHED.finditer(text), *_bare_dates(text)):
        found += [
            (m.start(), d) for d in [_date(int(m["d"]), int(m["m"]), m.groupdict().get("y"), today)] if d
        ]
    for m in _NAMED.finditer(text):
        day, month = int(m["d"] or m["d2"]), _MONTHS[m["mon"] or m["mon2"]]
        found += [(m.start(), d) for d in [_date(day, month, None, today)] if d]
    for m in _ORDINAL.finditer(text):  # "can we make it the 5th?": this month's, else next month's
        month = today.month if int(m["d"]) >= today.day else today.month % 12 + 1
        found += [(m.start(), d) for d in [_date(int(m["d"]), month, None, today)] if d]
    return sorted(found, key=lambda pair: pair[0])


def dated(text: str, today: date) -> date | None:
    """The first calendar date written out in `text` ("Monday 7th December": the 7th, not today)."""
    for pattern in (_NAMED, _DOTTED, _SLASHED, _ORDINAL):
        if (m := pattern.search(text)) is not None and (found := days(m[0], today)):
            return found[0][1]
    return None


def _bare_dates(text: str) -> list[re.Match[str]]:
    """ "4.12 ab 16 Uhr": a day and month with no closing dot, unless a time word puts it on the clock."""
    return [
        m
        for m in _DOTTED_BARE.finditer(text)
        if not set(text[: m.start()].split()[-1:]) & _TIME_WORDS and not _DOTTED.match(text, m.start())
    ]


def _short_word_in_english(name: str, text: str, end: int) -> bool:
    """ "sat", "wed", "mar", "sun" are English words too: only a day when nothing word-like follows."""
    return name in {"sat", "sun", "wed", "mon"} and bool(
        re.match(r" (on|down|in|at|up|is|the)\b", text[end:])
    )


def _date(day: int, month: int, year: str | None, today: date) -> date | None:
    full = int(year) + (2000 if len(year) == 2 else 0) if year else today.year
    try:
        found = date(full, month, day)
    except ValueError:
        return None
    if year is None and found < today - timedelta(days=1):
        found = found.replace(year=today.year + 1)
    return found


# --- times ---------------------------------------------------------------------------------------

_T = (
    r"(?P<{n}>(?:half (?:past )?|halb |quarter past |quarter to |viertel nach |viertel vor |dreiviertel )?"
    r"(?<![\d.:/#*])\d{{1,2}}(?:[:.h]\d{{2}})?(?!\d)(?!\s?(?:stops?|stopps?|min|mins|minutes|minuten|parcels?|pakete?"
    r"|packages?|days?|tage?n?|times|mal|x)\b)(?:\s?(?:am|pm|a\.m\.|p\.m\.|uhr|h\b|o'?clock))?"
    r"|\bnoon\b|\bmidday\b|\bmittag\b)"
)
_AROUND = r"(?:about |around |approx\.? |approximately |ca\.? |circa |gegen |etwa |so )?"
_RANGE = re.compile(
    rf"(?:between|zwischen|from|von|vom)?\s*{_AROUND}{_T.format(n='a')}\s*(?:and|und|to|till|til|until|bis|-|–)\s*"
    rf"{_AROUND}{_T.format(n='b')}"
)
_AFTER = re.compile(
    r"(?:after|aftr|afer|aftet|afte|from|frm|ab|nach|not before|nicht vor|no earlier than|fruehestens|"
    r"earliest|erst (?:um|ab|gegen|nach)|erst|"
    r"(?:home|back|there|in|here|zuhause|zu hause|daheim|da|zurueck|back home) "
    r"(?:from|by|at|around|after|um|ab|gegen)|"
    r"(?:get|am|i'm|im|bin|be) (?:home|back) (?:at|by|around)|komme? (?:erst )?um)"
    rf"\s+{_AROUND}{_T.format(n='t')}"
)
_BEFORE = re.compile(
    r"(?:before|vor|by|no later than|latest|spaetestens|bis spaetestens|until|till|til|untill|bis)"
    rf"\s+{_AROUND}{_T.format(n='t')}"
)
_AT = re.compile(
    rf"(?:around|about|at|um|gegen|ca\.?|approx\.?|so gegen)\s+{_T.format(n='t')}"
    r"|(?<![\d.:/#*])(?P<p>\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|uhr))\b"  # "thursday 8pm", "17 Uhr"
)
_AWAY = re.compile(
    r"\b(not|n't|nicht|no one|nobody|niemand|away|out|at work|working|work|arbeit|arbeite|arbeiten|unterwegs|"
    r"weg|busy|school|schule|uni|office|buero|gone|ausser haus|meeting|termin)\b|n't\b"
)
_PARTS: tuple[tuple[re.Pattern[str], time, time], ...] = (
    (
        re.compile(r"\b(after lunch|nach dem mittag\w*|nach der mittagspause|nachmittags?|afternoon|arvo)\b"),
        time(12),
        time(17),
    ),
    (
        re.compile(r"\b(morning|mornings|vormittags?|morgens|frueh|am morgen|in der frueh|early)\b"),
        time(8),
        time(12),
    ),
    (re.compile(r"\b(lunch ?time|lunch|mittags?|midday|noon|mittagszeit)\b"), time(12), time(14)),
    (
        re.compile(
            r"\b(evening|evenings|tonight|abends?|feierabend|after work|nach der arbeit|nach feierabend)\b"
        ),
        time(17),
        time(21),
    ),
)
_LUNCH_AFTER = re.compile(r"\b(after lunch|nach dem mittag\w*|nach der mittagspause)\b")
_WORK_AFTER = re.compile(r"\b(after work|nach der arbeit|nach feierabend|feierabend)\b")
_EVENING_WORDS = re.compile(r"\b(evening|tonight|abends?|pm|p\.m\.|nachts)\b")


# "half 5" is 5:30 in English, "halb 6" is 5:30 in German: (hours to add, minutes).
_QUARTERS: dict[str, tuple[int, int]] = {
    "half ": (0, 30),
    "half past ": (0, 30),
    "halb ": (-1, 30),
    "quarter past ": (0, 15),
    "viertel nach ": (0, 15),
    "quarter to ": (-1, 45),
    "viertel vor ": (-1, 45),
    "dreiviertel ": (-1, 45),
}


def _hour(token: str, text: str) -> time | None:
    token = token.strip()
    if token in {"noon", "midday", "mittag"}:
        return time(12)
    m = re.match(
        r"(?P<q>half (?:past )?|halb |quarter past |quarter to |viertel nach |viertel vor |dreiviertel )?"
        r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|uhr|h|o'?clock)?",
        token,
    )
    if m is None:
        return None
    hour, minute, suffix = int(m[2]), int(m[3] or 0), m[4] or ""
    if m["q"]:
        hour, minute = hour + _QUARTERS[m["q"]][0], _QUARTERS[m["q"]][1]
    if not 0 <= hour <= 23 or minute > 59:
        return None
    if suffix.startswith("p") and hour < 12:
        hour += 12
    elif suffix.startswith("a"):
        hour %= 12
    elif hour <= 7 or (hour < 12 and suffix not in {"uhr", "h"} and _EVENING_WORDS.search(text)):
        hour += 12 if hour < 12 else 0
    return time(hour, minute)


def _sensible(t: time | None) -> bool:
    return t is not None and time(6) <= t <= time(22)


def times(text: str) -> tuple[time | None, time | None]:
    """The earliest and latest time of day `text` (one clause, normalised) allows, each None when open."""
    for m in reversed(_bare_dates(text)):
        text = text[: m.start()] + " " + text[m.end() :]
    text = _SLASHED.sub(" ", _DOTTED.sub(" ", text))  # "bis 3.12." is a date, not 3:12
    for read in (_between, _limits, _at, _part_of_day):
        if (found := read(text)) is not None:
            return found
    return None, None


def _between(text: str) -> tuple[time, time] | None:
    for m in _RANGE.finditer(text):
        a, b = _hour(m["a"], text), _hour(m["b"], text)
        if a and b and not m["b"].rstrip().endswith(("am", "a.m.")) and b <= a and b.hour < 12:
            b = time(b.hour + 12, b.minute)  # "2-4pm", "from 11 to 1"
        if a and b and a < b and _sensible(a) and _sensible(b):
            return a, b
    return None


def _limits(text: str) -> tuple[time | None, time | None] | None:
    after: time | None = None
    before: time | None = None
    for m in _AFTER.finditer(text):
        if _sensible(t := _hour(m["t"], text)):
            after = t
    for m in _BEFORE.finditer(text):
        t = _hour(m["t"], text)
        if not _sensible(t):
            continue
        if m.group(0).startswith(("until", "till", "til", "untill", "bis")) and _AWAY.search(text):
            after = t  # "not home until 6", "bis 17 Uhr bei der Arbeit": from then on
        elif after is None or (t is not None and t > after):
            before = t
    return (after, before) if after or before else None


def _at(text: str) -> tuple[time, time] | None:
    """ "at 3", "um 15 Uhr": the hour from then."""
    for m in _AT.finditer(text):
        t = _hour(m["t"] or m["p"], text)
        if _sensible(t) and t is not None:
            return t, time(min(t.hour + 1, 23), t.minute)
    return None


def _part_of_day(text: str) -> tuple[time, time | None] | None:
    if _LUNCH_AFTER.search(text):
        return time(13), None
    if _WORK_AFTER.search(text):
        return time(17), None
    for pattern, start, end in _PARTS:
        if pattern.search(text):
            return start, end
    return None


# --- the wish ------------------------------------------------------------------------------------

_CLAUSES = re.compile(
    r"[,;!?\n]+|(?<!\d)\.+|\s(?:but|aber|sondern|instead|lieber|oder|or|better|if not|falls nicht)\s|\s-\s"
)
# A no, or a reason it cannot be: a clause with one names what they do not want (sms_text: never a yes).
NO = re.compile(
    r"\b(not|no|nope|nicht|kein|keine|niemand|nobody|nie|never|cannot|can't|cant|won't|wont|unable|leider|"
    r"unfortunately|sadly|at work|away|busy|weg|unterwegs|geht nicht|klappt nicht|passt nicht|schlecht)\b"
    r"|n't\b"
)
_ASKING = re.compile(
    r"\b(please|pls|plz|bitte|could|can|would|wuerde|waere|koennen|koennten|koenntet|kann|moeglich|instead|"
    r"lieber|better|besser|prefer|rather|how about|what about|wie waere|geht auch|works|passt|klappt|ok|"
    r"okay)\b"
)


DAY_OPENS, DAY_CLOSES = time(7), time(21)  # an open end of a wish, when comparing two: the delivery day


@dataclass(frozen=True)
class _Clause:
    day: date | None
    after: time | None
    before: time | None
    asking: bool


def wish(text: str, today: date) -> Wish | None:
    """The day and time range `text` asks for (None when it names neither).

    A clause that asks ("could you come Friday morning instead?") wins over one that explains
    ("I'm on an early shift tomorrow"); a clause that says no to a day is not a wish for it.
    """
    clauses = [_read(c, today) for c in _CLAUSES.split(normalise(text))]
    said = [c for c in clauses if c is not None and (c.day or c.after or c.before)]
    if not said:
        return None
    first = next((c for c in said if c.asking), said[0])
    day = first.day or next((c.day for c in said if c.day), None)
    timed = first if first.after or first.before else next((c for c in said if c.after or c.before), first)
    narrower = [c for c in said if (c.after or c.before) and _narrows(c, timed)]
    timed = narrower[0] if narrower else timed  # "lunchtime, so between 12 and 1": the hours said last
    return Wish(day, timed.after, timed.before)


def _narrows(clause: "_Clause", other: "_Clause") -> bool:
    """`clause`'s hours overlap `other`'s and span less of a delivery day ("mornings, before 9 if poss")."""
    a, b = _minute(clause.after, DAY_OPENS), _minute(clause.before, DAY_CLOSES)
    c, d = _minute(other.after, DAY_OPENS), _minute(other.before, DAY_CLOSES)
    return clause is not other and a < d and c < b and b - a < d - c


def _minute(moment: time | None, open_end: time) -> int:
    moment = open_end if moment is None else moment
    return moment.hour * 60 + moment.minute


def _read(clause: str, today: date) -> _Clause | None:
    named = days(clause, today)
    after, before = times(clause)
    if NO.search(clause) and not _limit_in(clause):
        return None  # "not tomorrow", "Freitag geht nicht", "not in the morning": what they don't want
    day = dated(clause, today) or (named[0][1] if named else None)
    return _Clause(day, after, before, bool(_ASKING.search(clause)))


def _limit_in(clause: str) -> bool:
    """A clause with an explicit time limit ("not home until 6") says when, even with a "not" in it."""
    return any(p.search(clause) for p in (_AFTER, _BEFORE, _RANGE))
