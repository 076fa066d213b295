"""Reading a text message (SMS, or a Telegram chat) as an intent.

Two layers. The keyword layer: numbered choices, the carriers' STOP/START/HELP families (only as a
single word, any case, trimmed, exactly as carriers treat them; French ARRÊT/OUI/AIDE too), and short
keywords in English, German and French. Thanks (with praise, and no yes in it) are thanked, never taken
as a confirmation. The free-text layer for everything else (English and German, regional spellings read
as the standard word by sms_when.normalise), in this order: asking in words to stop or start again, a
parcel reported missing (after delivery also "where is it?" and "wrong door"), a person asked for, a
gate code (sms_place), how to hand it over ("don't leave it outside", "ring twice": the words go to the
driver as they are; what already happened is not an instruction), where to leave it (sms_place), a
time asked for in words (sms_when), "another time" with no usable time, a plain yes (with a time in it,
a wish), a status question, who is writing. A message that does two things (a handover note or code
and an answer, or an opt-out) is read part by part and does both (intents.Several). Whatever is left is
NotUnderstood: the recipient gets a short helpful answer and support gets the message.
"""

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.domain import intents
from bot.domain.intents import Intent, SafeDropPlace
from bot.handlers import sms_place, sms_when

# Carriers and Twilio treat these as opt-out / opt-in only as a single word (any case, trimmed).
# French as Canadian carriers take it: ARRÊT stops, OUI is a yes (and re-enables, like YES), AIDE helps.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "ARRET", "ARRÊT"}
)
YES_WORDS = frozenset({"YES", "OUI"})
START_WORDS = frozenset({"START", "UNSTOP", *YES_WORDS})
HELP_WORDS = frozenset({"HELP", "INFO", "HILFE", "AIDE"})

_CONFIRM = re.compile(
    r"^(yes|y|ok|okay|ja|passt|confirm|confirmed|bestätigen|bestätigt|oui|d'accord|confirmé|👍)"
    r"([ ,!.]+(thanks|thank you|thx|danke|danke schön|great|super|perfect|perfekt|merci|parfait|👍))?[.! ]*$",
    re.I,
)
_CHANGE = re.compile(
    r"^(change|reschedule|other time|another time|ändern|andere zeit|verschieben)[.!]*$", re.I
)
_STATUS = re.compile(r"^(status|where|where is it|wo|wo ist mein paket)\??$", re.I)
_PERSON = re.compile(r"^(person|human|agent|call me|mensch|mitarbeiter|rückruf)[.!]*$", re.I)
_SAFE = re.compile(r"^(safe|ablage)\s*[:\-]?\s*(?P<text>.+)$", re.I | re.S)
_CODE = re.compile(r"^(code|tor|gate|türcode)\s*[:\-]?\s*(?P<code>[0-9A-Za-z#*]{2,12})$", re.I)


def parse(
    text: str, asked: Mapping[str, Any] | None = None, today: date | None = None, *, opted_out: bool = False
) -> Intent:
    """The intent of `text`, reading a bare number against the question last `asked`, if any.

    `today` is the recipient's local date, for "tomorrow" and "Friday" (without it, times in words
    are not read). YES re-enables a number that sent STOP, as carriers do; otherwise it confirms.
    """
    body = _unquoted(visible(text).strip())
    asked = asked or {}
    if (carrier := _carrier_word(body, opted_out)) is not None:
        return carrier
    question = asked.get("question")
    delivered = question in {"rating", "comment"}  # they answer our "delivered" message
    if (rated := _rated(body, question)) is not None:
        return rated
    free = _keywords(body) or _free_text(body, today, delivered=delivered)
    if (numbered := _numbered(body, asked, free, today)) is not None:
        return numbered
    words = sms_when.normalise(body)
    asking = "?" in body or _STILL.search(words)  # not "a photo of where it was left"
    over = isinstance(free, _OVER_A_COMMENT) and (not isinstance(free, intents.Status) or asking)
    if question == "comment" and body and not over:
        return intents.Comment(body[:1000], asks="?" in body or bool(_ASKS.search(words)))
    if (free is None or isinstance(free, _HOW | _WHEN_ANSWER)) and (
        both := _compound(body, today, delivered, free)
    ):
        return both  # "stop texting me about this order, just leave it at the door": both
    return _also_asked(free, body, today) if free else intents.NotUnderstood(text)


def _unquoted(body: str) -> str:
    """The message without the lines it quotes ("> Doorstep: Where should we leave…"), if it has others."""
    lines = body.splitlines()
    own = [line for line in lines if not line.lstrip().startswith(">")]
    return "\n".join(own).strip() if own and len(own) < len(lines) else body


# An action that can come with a question of its own ("where is it? and leave it in the garage").
_ACTIONS = (intents.SafeDrop, intents.AccessCode, intents.Confirm)
_ASKED = re.compile(r"[^.!?\n]*\?")


def _also_asked(reading: Intent, body: str, today: date | None) -> Intent:
    """`reading`, and each question the message also asks: answered where we can (where is it, who are
    you), else for a person to answer; a question beside an instruction is never dropped."""
    if not isinstance(reading, _ACTIONS):
        return reading
    answers: list[Intent] = []
    for question in (q.strip() for q in _ASKED.findall(body)):
        alone = _free_text(question, today)
        if isinstance(alone, type(reading)) or len(question.split()) < 2:
            continue  # the action itself, asked ("can you leave it in the garage?"), or a bare "ok?"
        answerable = isinstance(alone, intents.Status | intents.Help)
        answers.append(alone if answerable and alone else intents.Person(question))
    return intents.Several((reading, *answers)) if answers else reading


def _rated(body: str, question: str | None) -> Intent | None:
    """Stars, with what a problem in the words says as well ("1 - never got it")."""
    stars = _stars(body, rating=question == "rating")
    if stars is None:
        return None
    comment = _STARS.sub("", body).strip(" .,!-:") if len(body) > 12 else ""
    problem = _problem(sms_when.normalise(comment), delivered=True) if comment else None
    rated = intents.Rate(stars, comment)
    return intents.Several((problem, rated)) if problem else rated


_SLOT_FIRST = re.compile(r"^\s*([1-9])\s*(?:[,)\-–:]|\s-)")


def _numbered(body: str, asked: Mapping[str, Any], free: Intent | None, today: date | None) -> Intent | None:
    """A number that answers our question, alone or with more words; None when there is none."""
    if (n := _chosen_number(body, asked)) is not None:
        return _number(n, asked)
    slot = asked.get("question") == "slot"
    if slot and (m := _SLOT_FIRST.match(body)):
        return _number(int(m[1]), asked)  # "3 - wednesday morning is best for me": the slot, in their words
    if (picked := _leading_number(body)) is not None and not _dated(free):
        return _number_and_more(*picked, asked, today)
    if slot and not _dated(free) and (n := _lone_number(body)) is not None:
        return _number(n, asked)  # "Sorry, I was in the shower when he came! 2 please"
    return None


def _number_and_more(n: int, rest: str, asked: Mapping[str, Any], today: date | None) -> Intent:
    """ "3, bitte in den Briefkasten", "2 - I'm at work all day", "2, and leave it with the neighbour"."""
    delivered = asked.get("question") in {"rating", "comment"}
    said = _keywords(rest) or _free_text(rest, today, delivered=delivered)
    chosen = _number(n, asked)
    if isinstance(said, _HOW) and isinstance(chosen, _WHEN_ANSWER):
        return intents.Several((said, chosen))
    if isinstance(said, _HOW):  # "3 - SAFE porch, code for the gate is 0000": the instructions were the 3
        return _compound(rest, today, delivered, None) or said
    return said if isinstance(said, intents.Reschedule) else chosen


# A message can say how to hand it over and answer about the time at once; then it does both.
_HOW = intents.SafeDrop | intents.AccessCode
_WHEN_ANSWER = intents.Confirm | intents.AskSlots | intents.Reschedule
_PART = re.compile(r"[.;!?]+(?:\s+|$)|,\s*|\s+(?:and|und|then|dann|also|plus)\s+", re.I)
# In a message that does two things, a part is an instruction only when it says to leave or hand over
# ("Meine Nachbarn sind auch berufstätig" mentions a place), and "another time" only when it asks for one
# ("Bin nicht da, bitte beim Nachbarn abgeben" explains the instruction).
_TELLS = sms_when.words(
    r"(please|pls|plz|bitte|just|einfach|always|immer)\s+((always|immer)\s+)?"
    r"(in|into|at|on|by|behind|under|with|to|im|ins|an|am|auf|bei|beim|hinter\w*|unter\w*|vor|zum|zur|neben)"
    r"|safe"
)
_ASKS_ANOTHER = sms_when.words(
    r"another|other|different|reschedul\w*|change|later|andere\w*|anderen|aendern|verschieb\w*|neue\w* termin"
    r"|spaeter"
)
_NEGATED = sms_when.words(r"not|never|n'?t|nicht|nie|niemals|kein\w*|no")


def _compound(body: str, today: date | None, delivered: bool, whole: Intent | None) -> Intent | None:
    """ "yes fine, the code is 4711", "Nein, morgen ab 15 Uhr und dann beim Nachbarn": each part read alone;
    a handover note and a code, or either with an answer (about the time, the whole message's reading
    where that is one; or "where is it?") or an opt-out, make one of each: the handover first, then the
    answer, then the opt-out. None when the message does fewer than two things."""
    # "SAFE back door, key code 9753 under the mat": the instruction stays whole, the code is taken too
    how: dict[type, Intent] = (
        {intents.SafeDrop: whole} if isinstance(whole, intents.SafeDrop) and _SAFE.match(body) else {}
    )
    answer: Intent | None = whole if isinstance(whole, intents.Confirm | intents.Reschedule) else None
    stop: Intent | None = None
    for part in _PART.split(body):
        text = sms_when.normalise(part)
        read = _keywords(part) or _free_text(part, today, delivered=delivered)
        if isinstance(read, intents.AccessCode) or (
            isinstance(read, intents.SafeDrop) and (_TELLS.search(text) or sms_place.drops(text))
        ):
            how.setdefault(type(read), read)
        elif (
            (isinstance(read, intents.Status) and "?" in part)  # "Where is it?? And pls leave it at the back"
            or isinstance(read, intents.Reschedule)
            or (isinstance(read, intents.Confirm) and not _NEGATED.search(text))
            or (isinstance(read, intents.AskSlots) and _ASKS_ANOTHER.search(text))
        ):
            answer = answer or read
        elif isinstance(read, intents.OptOut):
            stop = read
    parts = [*how.values(), *(p for p in (answer, stop) if p is not None)]
    return intents.Several(tuple(parts)) if len(parts) > 1 else None


def visible(text: str) -> str:
    """`text` without the characters nobody sees (zero-width spaces and joiners, direction marks, a BOM:
    Unicode's format characters), which a phone's keyboard or a paste can slip into "STOP" or "2"."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


# A comment that asks for something: "please", "call", "why", in any form a dialect keeps ("bitte").
_ASKS = sms_when.words(
    r"please|pls|plz|bitte|could you|can you|would you|call|ring me|contact|get back|why|how come|refund"
    r"|koennen sie|koennten sie|kannst du|ruf\w*|anruf\w*|melden|warum|wieso|weshalb|erstatt\w*"
)
# What a message after "anything to add?" can still be, rather than a comment on the rating.
_OVER_A_COMMENT = (intents.NotReceived, intents.Person, intents.Status)
_FILLER = re.compile(
    r"\b(the|die|der|das|den|one|option|nummer|number|nr|no|slot|termin|zeit|appointment|waer|waere|would be"
    r"|is best|please|pls|plz|bitte|thanks|thank you|thx|"
    r"danke|ok|okay|i'?ll take|ich nehme|take|nehme|gerne|gern|ja|yes|choice|wahl|time|zeit|passt|works|fine|"
    r"good|gut|geht|klappt|perfect|perfekt|great|super|top)\b|[^\w\s]"
)


_THANKS = sms_when.words(
    r"thanks?|thank (you|u)|thankyou|thx|ty|cheers|ta|danke\w*|vielen dank|besten dank|herzlichen dank|merci"
    r"|much appreciated|appreciated?|appreciate it|vergelt'?s gott|much obliged|merci vielmals"
)
_PRAISE = sms_when.words(
    r"great|super|perfect|perfekt|excellent|awesome|amazing|lovely|brilliant|nice|wonderful|fantastic|good"
    r"|toll\w*|klasse|prima|wunderbar|spitze|schoen|nett|lieb|top|service|job|work|delivery|driver|fahrer"
    r"|lieferung|zustellung|team|you|u|guys|again|so|much|very|a|lot|many|for|the|your|this|that|it|all"
    r"|everything|and|und|fuer|den|die|das|ihr|ihnen|euch|sehr|vielmals|schnell\w*|quick|fast|as always"
    r"|wie immer|really|echt|wirklich|hi|hallo|hello|mate|heads up|heaps|legends?|stars?|million|loads|got it"
    r"|noted|received|erhalten|angekommen|bekommen|info|information|bescheid|update|gang|mates|folks|guys"
    r"|are|is|you'?re|ur"
)
_THANKS_EMOJI = re.compile(r"[🙏❤️💐😊🙂👌✨🌟]")


def _only_thanks(body: str) -> bool:
    """Thanks and praise and nothing else ("great service thanks", "Danke!", "thank you so much 🙏"): no yes,
    no question, no request in it."""
    text = sms_when.normalise(body)
    if not (_THANKS.search(text) or (_THANKS_EMOJI.search(text) and not re.search(r"\w", text))):
        return False
    rest = _PRAISE.sub(" ", _THANKS.sub(" ", _THANKS_EMOJI.sub(" ", text)))
    return not re.sub(r"[\s.,!:;\-–—~]+", "", rest)


def _carrier_word(body: str, opted_out: bool) -> Intent | None:
    word = body.upper().rstrip(".!")
    if word in STOP_WORDS:
        return intents.OptOut()
    if word in START_WORDS and (word not in YES_WORDS or opted_out):
        return intents.OptIn()
    return intents.Help() if word in HELP_WORDS else None


_NUMBER_WORDS = {
    **dict.fromkeys(("1", "one", "eins", "first", "1st", "erste", "ersten", "erster", "erstes"), 1),
    **dict.fromkeys(("2", "two", "zwei", "second", "2nd", "zweite", "zweiten", "zweiter", "zweites"), 2),
    **dict.fromkeys(("3", "three", "drei", "third", "3rd", "dritte", "dritten", "dritter", "drittes"), 3),
    **dict.fromkeys(("4", "four", "vier", "fourth", "4th", "vierte", "vierten"), 4),
    **dict.fromkeys(("5", "five", "fuenf", "fifth", "5th", "fuenfte", "fuenften"), 5),
}


def _chosen_number(body: str, asked: Mapping[str, Any]) -> int | None:
    """A number and nothing else that means anything: "2", " 2. ", "option 1 pls", "die zweite bitte",
    and after times were offered "the last one"."""
    text = sms_when.normalise(body)
    if re.fullmatch(r"\d{1,2}[.)!]?", text):
        return int(text.rstrip(".)!"))
    words = _FILLER.sub(" ", text).split()
    if len(words) != 1:
        return None
    offered = len(asked.get("slots", ())) if asked.get("question") == "slot" else 0
    return offered if offered and _LAST.fullmatch(words[0]) else _NUMBER_WORDS.get(words[0])


_LAST = re.compile(r"last|letzte\w*|latest|spaeteste\w*")


def _lone_number(body: str) -> int | None:
    """The one number 1-9 standing alone in a message (not a time, a date or a count), if only one."""
    found = re.findall(
        r"(?<![\d:./\-#*])\b([1-9])\b(?![\d:./\-]\d)(?!\s*(?:uhr|am|pm|h\b|stop|min))", body.lower()
    )
    return int(found[0]) if len(found) == 1 else None


def _dated(intent: Intent | None) -> bool:
    """ "3. Dezember nachmittags" starts with a number that is a date, not a choice."""
    return isinstance(intent, intents.Reschedule) and intent.wish is not None and intent.wish.day is not None


def _leading_number(body: str) -> tuple[int, str] | None:
    """ "3, bitte in den Briefkasten", "1 bitte, war gestern beim Arzt": a choice, then more words."""
    m = re.match(
        r"^\s*([1-9])(?![\d:.]\d)(?:\s*[,.)\-–:]+|\s+(?=(?:please|pls|bitte|thanks|danke|ok|and|und)\b))"
        r"\s*(?P<rest>\S.*)$",
        body,
        re.S | re.I,
    )
    return (int(m[1]), m["rest"]) if m else None


_STARS = re.compile(
    r"(?<![\d\w])(?P<n>[1-5]|one|two|three|four|five|eins|ein|zwei|drei|vier|fuenf|fünf)(?![\d\w])\s*"
    r"(?P<unit>/\s*5|stars?|sterne?|out of 5|von 5|of 5|⭐️?)?|(?P<emoji>(?:⭐️?){1,5})",
    re.I,
)


_SAID_ALONE = re.compile(r"\s*(?:$|[!.,:;)-])")


def _stars(body: str, *, rating: bool) -> int | None:
    """A rating: "5 stars", "4/5", "Fünf Sterne", "fünf ⭐", "⭐⭐⭐⭐" anywhere; after "how did we do?" also
    a lone number at the start or the end ("5!! super", "1, Paket war nass", "five, driver was lovely")."""
    for m in _STARS.finditer(body):
        if m["emoji"]:
            return m["emoji"].count("⭐")
        stars = _NUMBER_WORDS.get(sms_when.normalise(m["n"]), 1 if m["n"].lower() == "ein" else None)
        # "4/5" may be a date: a rating only when one was asked for
        worded = m["unit"] and (rating or not m["unit"].startswith("/"))
        alone = m.start() == 0 or m.end() == len(body.rstrip(" .!"))  # "Parcel was soaked. 1"
        # "five, driver was lovely", "Fünf! Super": a number word on its own, not "one of the best"
        said = m["n"].isdigit() or bool(_SAID_ALONE.match(body, m.end()))
        if stars is not None and (worded or (rating and alone and said)):
            return stars
    return None


def _number(n: int, asked: Mapping[str, Any]) -> Intent:
    question = asked.get("question")
    if question == "slot":
        offered = len(asked.get("slots", ())) or None
        return (
            intents.Reschedule(slot=n)
            if offered is None or 1 <= n <= offered
            else intents.NotUnderstood(str(n))
        )
    if question == "rating" and 1 <= n <= 5:
        return intents.Rate(n)
    menu: dict[int, Intent] = {1: intents.Confirm(), 2: intents.AskSlots(), 3: intents.AskInstructions()}
    return menu.get(n, intents.NotUnderstood(str(n)))


def _keywords(body: str) -> Intent | None:
    if _only_thanks(body):  # after "anything to add?" they are the comment (parse)
        return intents.Thanks()
    simple: tuple[tuple[re.Pattern[str], Intent], ...] = (
        (_CONFIRM, intents.Confirm()),
        (_CHANGE, intents.AskSlots()),
        (_STATUS, intents.Status()),
        (_PERSON, intents.Person()),
    )
    for pattern, intent in simple:
        if pattern.match(body):
            return intent
    if code := _CODE.match(body):
        return intents.AccessCode(code["code"])
    if safe := _SAFE.match(body):
        return safe_drop(safe["text"].strip())
    return None


def safe_drop(text: str) -> intents.SafeDrop:
    """A preset when the words name one, the rest kept as the detail (a neighbour's name or number).

    "always" (immer, from now on...) makes it the standing preference and is not part of the detail.
    """
    standing = bool(sms_place.ALWAYS.search(text))
    detail = sms_place.ALWAYS.sub("", text).strip(" ,;.") if standing else text
    place = sms_place.place_in(sms_when.normalise(detail)) or SafeDropPlace.OTHER
    return intents.SafeDrop(place, detail, standing=standing)


# --- free text -----------------------------------------------------------------------------------
# Patterns below read normalised text (sms_when.normalise: lower case, ä → ae, ß → ss).
words = sms_when.words

_MISSING = words(
    r"(not|never|haven'?t|hasn'?t|didn'?t|did not|nicht|nie|kein|keine)\b[^.?!]{0,40}\b(received|receive"
    r"|recieved|arrived|arrive|got|get|gotten|erhalten|bekommen|angekommen|geliefert|zugestellt)|(says"
    r"|saying|said|marked|shows|steht|zeigt|angeblich|sagt|als)\b[^?!]{0,30}\b(delivered|zugestellt"
    r"|geliefert)|(delivered|zugestellt|geliefert)\b[^?]{0,60}\b(not here|isn'?t here|nicht da|nichts"
    r"|nothing|kein paket|no parcel|can'?t find|cannot find|finde (es|das paket|nichts) nicht)"
    r"|(no|kein|nothing|nichts)\s+(parcel|package|paket)\b[^.?!]{0,20}\b(here|da|angekommen)"
    r"|(nichts|nothing|gar nichts)\s+(angekommen|bekommen|erhalten|arrived|came|received)"
    r"|where is it[^.?!]{0,30}\bdelivered|wo ist[^.?!]{0,30}\bzugestellt"
    r"|(says|said|marked|shows)\b[^.?!]{0,20}\b(left|dropped|put|posted)|(angeblich|laut (app|tracking"
    r"|sendungsverfolgung)|tracking says|app says|supposedly)\b.{0,100}\b(nichts|nix|nothing|not there"
    r"|nicht da|kein|isn'?t|wasn'?t)|(zugestellt|delivered)\b.{0,60}\bnix"
    r"|(parcel|package|paket|sendung)\s+(is\s+|ist\s+)?(not|isn'?t|nicht)\s+(here|da)"
    r"|(photo|foto|picture|bild)\b[^.?!]{0,30}\b(different|wrong|another|andere\w*|falsche\w*)"
    r"|(delivered|left|zugestellt|abgelegt|abgestellt)\b[^.?!]{0,30}\b(wrong|falsche\w*) (door|house"
    r"|address|tuer|haus|adresse)|^(wrong|falsche\w*) (door|house|address|flat|building|tuer|haus|adresse"
    r"|wohnung|hausnummer|eingang)|not (my|our) (house|home|door|building|address|flat)"
    r"|nicht (mein|unser)\w* (haus|tuer|wohnung|adresse|eingang)|(photo|foto|picture|bild)\b.{0,60}\b(mine"
    r"|meine|unsere|ours) (is|ist)|(do|does|did)(n'?t| not) have it|(paket|parcel"
    r"|package)\b[^.?!]{0,12}\b(is |ist )?"
    r"(nicht|not) (da|do|here)"
)
_HUMAN = words(
    r"call me|ring me|phone me|call back|callback|give me a call|speak (to|with)|talk (to|with)|real person"
    r"|a human|human being|an agent|customer service|customer care|support team|your manager|supervisor"
    r"|complain|complaint|ruf\w* (sie |du )?mich|rueckruf|zurueckrufen|anrufen|mitarbeiter\w*|\w*menschen"
    r"|mit jemandem|kundenservice|kundendienst|beschwer\w*|sprechen|telefonisch|meldet sich|melden sie sich"
    r"|contact me|get in touch|kontaktier\w*|someone call|jemand anrufen|have someone|manager|hotline"
    r"|phone number|telefonnummer|(no|not a|kein) (bot|robot|roboter|computer)|rue?ef\w* (sie |si )?mi"
    r"|ruf\w* mi"
    r"|rufts"
)
_DRIVER_CALLS = words(r"(driver|fahrer\w*|bote|courier|kurier)\b[^.?!]{0,30}\b(call|ring|anrufen|klingeln)")
_CHANGING = words(
    r"reschedul\w*|re-schedul\w*|rearrange|(another|different) (day|time|date|slot)"
    r"|other (day|time|date|times|slots|options)|any other|change (the |my )?(time|day|date|delivery|slot)"
    r"|change it|later|move it|move the|can we move|none of (those|these|them)|keiner davon|keine davon"
    r"|(doesn'?t|does not|don'?t|won'?t) (work|suit)|at work|i'?m away|bin arbeiten|bin (auf der )?arbeit"
    r"|and(e)?re\w* (tag|zeit|zeiten|termin|termine|slots|uhrzeit)|anderer termin|neuen termin|nicht heute"
    r"|(auf|in) (der |da )?arbeit"
    r"|nicht morgen|(passt|geht|klappt)\b[^.?!]{0,15}\bnicht|next week"
    r"|not (be )?(home|in|there|around|available|here)|won'?t be|will not be|can'?t (make|be|do)"
    r"|cannot (make|be|do)|not today|not tomorrow|postpone|delay|verschieb\w*|verlege\w*|spaeter"
    r"|naechste woche|nicht (da|zu ?hause|daheim|anwesend|zuhaus)|bin nicht|sind nicht|umbuchen"
    r"|(termin|zeit) aendern|kein\w*\b[^.?!]{0,20}\b(passt|geht|klappt)|none\b[^.?!]{0,20}\b(work|suit|fit)"
    r"|(not|nicht) (this|diese) (week|woche)"
)
_YES = words(
    r"^(?=(\S+\s+){0,9}\S+\W*$)(ye+s+|yeah|yep|yup|ya|yea|y|o+k+|okay|okey|k|kk|sure|fine|great|perfect"
    r"|perfekt|super|alright|good"
    r"|grand|that'?s grand"
    r"|ja+|jo|jep|jup|jawohl|klar|gerne|gern|passt|in ordnung|einverstanden|bestaetigt|confirmed|confirm|top"
    r"|prima|wunderbar)|^(👍|👌|✅|🙂|😊)|i'?ll be (home|there|in|around)|i will be (home|there|in)"
    r"|we'?ll be (home|there|in)|some(one|body) will be|see you|(bin|sind) (da|zuhause|zu hause|daheim)"
    r"|ist jemand da|jemand ist da|wir sind da|ich bin da|that('?s| is) fine|that works|works for me"
    r"|passt (gut|mir|perfekt)|geht klar|alles klar|klappt|das passt|sounds good|bestaetige|bestaetigt"
    r"|bestaetigen (den|die|das)|(bin|sind|i'?m|we'?re|i am|we are|will be"
    r"|ist jemand)\b[^.?!,]{0,25}\b(zu ?hause|zuhaus|da|daheim|home|in|there)"
)
_QUESTION = words(
    r"where('?s| is| are)? (my|the|it|our|you)|where is|when (will|does|is|do|are|can|should)|what time|eta"
    r"|any (update|news)|still coming|how long|is it (coming|still)|how far|(it'?s|is it|it is|parcel is"
    r"|package is|driver is|is the driver|is he|is she) on (its|the|it'?s|his|her) way|how many stops"
    r"|stops (before|until|till)|(is )?the driver (still )?coming|wie viele stop\w*"
    r"|kommt (der fahrer|er|sie|es|das paket|mein paket|die lieferung)( noch)?|was neues|neuigkeiten"
    r"|wann (kommt|komm|ist|wird|werden|bringen|liefern|kommen|koennen|kann)|wo (ist|bleibt|steckt)"
    r"|wie lange|noch heute|status|sendungsverfolgung|tracking|wann ungefaehr"
    r"|ist (es|das paket) (schon )?unterwegs|on the (van|truck|lorry)|(im|auf dem) (auto|wagen|lieferwagen)"
    r"|ist (es|das paket|der fahrer|er|sie) (schon |noch |jetzt )?unterwegs|out for delivery"
    r"|wo sich \w+ paket|befindet|kommt (das|es)\b[^.?!]{0,20}\b(heute|morgen|noch)"
    r"|(ob|whether|if) (es|it)\b[^.?!]{0,30}\b(kommt|come)|in zustellung"
    r"|(has|have|did) (the |my |our )?(driver|van|parcel|package|courier|it|he|she|you)\b[^.?!]{0,15}\b(left"
    r"|set off|gone out|started|departed|shipped|been sent)|left (the depot )?yet|schon (los|unterwegs"
    r"|losgefahren|abgefahren)|(ist|sind) (der fahrer|er|sie) (schon )?(los|losgefahren|abgefahren)"
)
_WHO = words(
    r"who (is|'?s) (this|that|it|there|writing)|who are (you|u)|who r u|whos this"
    r"|wer (ist|sind|schreibt) (das|da|sie|hier|mir)|wer sind sie|(who|what)('?s| is) (dstp|doorstep)"
    r"|what('?s| is) (this|that|it) (about|for|regarding)|what is this(?= ?\?*$)"
    r"|what am i (supposed|meant) to|was ist das( fuer (eine )?(sms|nachricht))?(?= ?\?*$)|worum geht"
    r"|was soll (ich|das)|(wer|was) ist (dstp|doorstep)"
)
_INSTRUCTIONS = words(
    r"instruction\w*|\w*anweisung\w*|hinweis\w*|(note|message) for the driver|tell the driver"
    r"|(notiz|nachricht) (fuer|an) den fahrer|dem fahrer (sagen|mitteilen)|ablageort|abstellort"
    r"|where (to|should|can) (you )?leave|wo (soll|kann|koennen)|how do i (tell|say|give)|wie kann ich"
    r"|where (to|should|can|do) (you |i )?(leave|put|drop)|tell you where|abstellgenehmigung\w*|genehmigung"
    r"|erlaubnis|(permission|authority) to leave|where do i type"
)
_LEAVE_AT = words(
    r"(leave|put|drop|place|hide|stell\w*|leg\w*|abstell\w*|ablegen|deponier\w*|lass\w*)\b[^.?!]{0,25}?\b(in"
    r"|into|inside|behind|under|underneath|on|by|next to|beside|near|with|hinter\w*|unter\w*|im|ins|auf|bei"
    r"|beim|neben|vor)"
    r"|(pop|chuck|bung|slip|stick)\b[^.?!]{0,25}?\b(in|into|inside|behind|under|on|by|next to|with)"
)
# German puts the verb last: "im Stiegenhaus abstellen", "beim Nachbarn abgeben".
_AT_THEN_LEAVE = words(
    r"(in|im|ins|auf|bei|beim|hinter\w*|unter\w*|neben|vor|an|am)\b[^.?!]{0,30}\b(abstellen|abgeben|ablegen"
    r"|hinterlegen|lassen|legen|stellen|deponieren|einwerfen|reinlegen)"
)
# Opt-out and opt-in in words, when that is all the message says (the keywords are _carrier_word's).
_OPT_OUT = words(
    r"(stop|quit|no more|keine|nicht mehr)\b[^.?!]{0,15}\b(text\w*|messag\w*|sms|nachricht\w*|spam\w*"
    r"|updates?"
    r"|schreiben|anschreiben|kontaktieren)|unsubscribe|opt(-| )?out|remove (me|my (number|phone|details))"
    r"|take me off|delete my (number|details)|abmelden|abbestellen|austragen|(meine )?nummer (loeschen"
    r"|entfernen|streichen)|(hoer\w*|hoert) auf\b[^.?!]{0,20}\b(schreib\w*|sms|nachricht\w*|text\w*)|stopp+"
)
_OPT_IN = words(
    r"(send|text|schick\w*|sende\w*)\b[^.?!]{0,20}\b(again|wieder)|(again|wieder)\b[^.?!]{0,20}\b(send\w*"
    r"|schick\w*|messages|updates|sms|nachrichten)|resubscribe|subscribe again|opt(-| )?in|wieder anmelden"
)
_CONSENT_FILLER = words(
    r"about (this|the|my) (order|parcel|delivery|package)|about (it|this)"
    r"|(zu|wegen|ueber) (dieser|der|meiner) (bestellung|sendung|lieferung|paket)"
    r"|please|pls|plz|bitte|me|mir|mich|my|meine?|now|jetzt|sofort|thanks|thank you|danke|just|einfach"
    r"|again|mehr|more|anymore|any more|longer|wieder|from|of|von|your|eurer?|ihrer?|list|liste|ok|okay"
    r"|yes|ja|hi|hello|hallo|\W+"
)
# "stop texting me at night": when we write is the complaint, not that we write.
_WHEN = words(
    r"night|nachts|early|frueh|morning|morgens|abends|evening|weekend\w*|wochenende\w*|am|pm|uhr|\d+"
)
_BRAND = re.compile(r"(?<!the )(?<!on )(?<!at )(?<!my )(?<!our )\bDoorstep\b")
_BRAND_ASKED = re.compile(r"\b((?:what|who|whats|what's|was|wer)\s+(?:is|ist)\s+)doorstep\b", re.IGNORECASE)
# "where is it?" after it was delivered: it is missing.
_WHERE = re.compile(
    r"\b(where('?s| is| are| did)|wo (ist|is|bleibt))\b[^.?!]{0,30}\?|\b(can'?t|cannot"
    r"|could ?n'?t) find (it|my|the)\b"
    r"|\bfinde (es|das|mein\w*)\b[^.?!]{0,15}\bnicht\b"
)
_NOBODY_CAME = re.compile(
    r"\b(nobody|no one|noone|niemand|keiner) (came|come|rang|knocked|kam|war da|hat geklingelt)\b"
    r"|^(delivered|zugestellt|geliefert)\s*\?"
)
_OTHER_PARCEL = words(
    r"(second|other|another|2nd|zweite\w*|andere\w*) (parcel|package|order|paket\w*|sendung)"
)
# A complaint that opens with "why": a person reads it, no time or place in it is an instruction.
_COMPLAINT = re.compile(r"^(why|how come|warum|wieso|weshalb|seid'?s|seids|sind sie)\b")
# A status question with a time in it is still a question ("still coming? it's 5pm").
_STILL = words(
    r"still coming|is it still|are you still|where('?s| is) (my|the|it)|wo (ist|bleibt)|kommt (es|das\w*|er)"
    r"( heute)? noch|been (waiting )?\d+ ?min\w*|waiting (for|since)|warte\w* (seit|schon)"
)
_FAREWELL = words(r"(dann )?bis (morgen|dann|spaeter|gleich)\W*$|see (you|u|ya) (tomorrow|tmrw|then|later)")
# Our messages as the subject: "7 Uhr in da Früh a SMS!" complains about when we wrote.
_MESSAGE_NOUN = words(r"sms|texts?|messages?|nachrichten?|whatsapp|notifications?|benachrichtigung\w*")
# "quit texting me at 6am": about our messages, not the opt-out keyword; support reads it.
_ABOUT_MESSAGES = words(
    r"(stop|quit|hoer\w* auf|aufhoeren)\b[^.?!]{0,20}\b(text\w*|messag\w*|sms|nachricht\w*|schreib\w*"
    r"|spam\w*)"
)
# A negative never confirms: "ich bin leider erst um 5 zu Hause, vorher ist niemand da" is no yes. Not the
# idioms of a yes ("no problem", "kein Problem", "no worries").
_YES_IDIOMS = ("no problem", "no prob", "no worries", "not a problem", "kein problem", "keine sorge")
_NEGATIVE = re.compile(rf"(?!{'|'.join(_YES_IDIOMS)})(?:{sms_when.NO.pattern})")
_UNSURE = words(r"noch nicht|not yet|kann nicht|can'?t|cannot|muss erst|need to check|maybe|vielleicht")
# How to hand it over ("ring twice", "don't leave it outside"): a note for the driver in the recipient's
# own words, and words a "yes" must not swallow. Where it is not to be left names no place to leave it.
_DONT_LEAVE = words(
    r"(don'?t|dont|do not|never|nicht|nie)\b[^.?!]{0,20}\b(leave|lassen|abstellen|ablegen|vor die)"
    r"|(not|nicht)\s+(outside|draussen|vor die tuer|vor der tuer|at the door|on the doorstep|im freien)"
)
_HANDOVER = words(
    r"ring\w*|knock\w*|bell|doorbell|buzz\w*|intercom|klingel\w*|klopf\w*|gegensprech\w*"
    r"|(call|text|phone|anrufen|schreiben)\b[^.?!]{0,20}\b(when|before|wenn|bevor)"
    r"|personally|in person|hand it to me|(only|nur) (to|an) (me|mich)|persoenlich|signature|unterschrift"
    r"|" + _DONT_LEAVE.pattern
)
# What happened rather than what to do: a place or a knock told in the past is not an instruction.
_HAPPENED = words(
    r"(was|were|got|been|wurde|wurden|hat|haben|hab|habt|ist) (\w+ ){0,3}(left|delivered|dropped|put|thrown"
    r"|abgegeben|abgestellt|zugestellt|geliefert|hingelegt|hingestellt|geworfen|eingeworfen)"
    r"|knocked|rang|klopfte|klingelte|geklingelt|geklopft|nobody|no one|noone|niemand|keiner"
)
_IF = words(r"if|when|in case|falls|wenn|sonst|otherwise")
_OTHERWISE = words(r"if not|otherwise|or else|falls nicht|wenn nicht|sonst|ansonsten")
_PLEASE = words(
    r"please|pls|plz|bitte|(would be|is|waere|ist) (best|am besten|ideal)|could you|can you|koennen sie"
    r"|koenntest|instead|lieber|better|besser|prefer"
    r"|(could|can|would) (you|u|we)|i'?d rather|id rather|rather|how about|what about|wie waere|waere"
    r"|geht auch|any ?time|jederzeit"
)


def _free_text(body: str, today: date | None, *, delivered: bool = False) -> Intent | None:
    """The first reading that holds, in the order of the module docstring. `delivered`: the message
    answers our "delivered" one, where "where is it?" means it is missing."""
    named = _BRAND_ASKED.sub(r"\1dstp", _BRAND.sub("dstp", body))
    text = sms_when.normalise(named)  # "Was ist Doorstep?", "what is doorstep?" name us, not a doorstep
    if (consent := _consent(text)) is not None:
        return consent
    if _ABOUT_MESSAGES.search(text):
        return None
    if (problem := _problem(text, delivered=delivered)) is not None:
        return problem
    if _COMPLAINT.match(text):
        return None  # "why do you keep texting me at 7am": a person reads a complaint, nothing is read in it
    for read in (_instruction, _time, _question):
        if (intent := read(body, text, today)) is not None:
            return intent
    return None


def _consent(text: str) -> Intent | None:
    """ "stop texting me", "Bitte keine SMS mehr", "send me updates again": the whole message asks it."""
    for pattern, intent in ((_OPT_IN, intents.OptIn()), (_OPT_OUT, intents.OptOut())):
        m = pattern.search(text)
        if (
            m
            and not _WHEN.search(text)
            and not _CONSENT_FILLER.sub(" ", text[: m.start()] + " " + text[m.end() :]).strip()
        ):
            return intent
    return None


def _problem(text: str, *, delivered: bool) -> Intent | None:
    after = (
        delivered and (_WHERE.search(text) or _NOBODY_CAME.search(text)) and not _OTHER_PARCEL.search(text)
    )
    if _MISSING.search(text) or after:
        return intents.NotReceived()
    if _HUMAN.search(text) and not _DRIVER_CALLS.search(text):
        return intents.Person()
    return None


def _instruction(body: str, text: str, today: date | None) -> Intent | None:
    if code := sms_place.access_code(text):
        return code
    primary = _OTHERWISE.split(text)[0]  # "Friday morning? If not, leave it next door": the time comes first
    time_first = primary != text and today is not None and sms_when.wish(primary, today) is not None
    # "no one knocked, nothing with the neighbours": what happened, for a person to read
    happened = _HAPPENED.search(text) and not _PLEASE.search(text) and not _IF.search(text)
    if time_first or happened:
        return None
    if _DONT_LEAVE.search(text):
        return intents.SafeDrop(SafeDropPlace.OTHER, body)  # "do not leave it at the door" is no door
    if _HANDOVER.search(text) and (today is None or sms_when.wish(body, today) is None):
        return safe_drop(body)  # "ring twice", "stop ringing, leave it at the front door"
    if sms_place.safe_drop_phrase(text) or _LEAVE_AT.search(text) or _AT_THEN_LEAVE.search(text):
        return safe_drop(body)
    return None


def _time(body: str, text: str, today: date | None) -> Intent | None:
    """A day or hours asked for; "another time" without one asks for the times we can offer."""
    wish = sms_when.wish(body, today) if today is not None else None
    changing = bool(_CHANGING.search(text))
    about = _STILL.search(text) or _FAREWELL.search(text) or _MESSAGE_NOUN.search(text)
    if wish is not None and about and not changing and not _PLEASE.search(text):
        return None  # "is it still coming today? it's 5pm", "ok, bis morgen", "7 Uhr in da Früh a SMS!"
    if wish is not None and not (wish.after or wish.before or changing) and _QUESTION.search(text):
        return None  # "Kommt das heute noch?": a question about the day, not a wish for it
    if wish is not None and (
        wish.after or wish.before or changing or len(text.split()) <= 4 or _PLEASE.search(text)
    ):
        return intents.Reschedule(wish=wish)
    return intents.AskSlots() if changing else None


def _question(body: str, text: str, today: date | None) -> Intent | None:
    if _QUESTION.search(text):
        return intents.Status()
    holds_back = _UNSURE.search(text) or _HANDOVER.search(text) or _NEGATIVE.search(text)
    if _YES.search(text) and not holds_back:
        wish = (
            sms_when.wish(_FAREWELL.sub(" ", text), today) if today is not None else None
        )  # not "bis morgen"
        # "I bin erscht am Samschtig dahoim": a yes with a time is a yes to that time, and the window told
        # is kept only where it fits it (respond._wished); otherwise the times that fit are offered
        return intents.Reschedule(wish=wish) if wish is not None else intents.Confirm()
    if _INSTRUCTIONS.search(text):
        return intents.AskInstructions()
    if _WHO.search(text):
        return intents.Help()  # who we are and what they can answer
    return None
