"""Where to leave a parcel, and the codes that open gates, in a recipient's own words.

"leave it with no. 12", "behind the bin", "bitte beim Nachbarn abgeben", "Tor: 1234#". Works on
normalised text (sms_when.normalise: lower case, ä → ae, ß → ss).
"""

import re

from bot.domain import intents
from bot.domain.intents import SafeDropPlace
from bot.handlers.sms_when import words

_NOT_A_NAME = (
    "mir|uns|dir|euch|ihnen|ihm|ihr|der|dem|den|die|das|regen|bedarf|fragen|problemen|abwesenheit|nichtantreffen|"
    r"zustellung|lieferung|ankunft|gelegenheit|mein\w*|unser\w*"
)
PLACE: tuple[tuple[SafeDropPlace, re.Pattern[str]], ...] = (
    (
        SafeDropPlace.BACK_DOOR,
        words(r"back ?door|rear door|side door|hintertuer|hintereingang|seiteneingang"),
    ),
    (
        SafeDropPlace.FRONT_DOOR,
        words(
            r"front ?door|haustuer|vordertuer|eingangstuer|wohnungstuer|door ?step|door ?mat|fussmatte"
            r"|stoop|(at"
            r"|by|outside|in front of|to|on) (the |my |our )?door|(vor|an|neben) (die|der|meine|meiner"
            r"|unsere|unserer) tuer"
        ),
    ),
    (SafeDropPlace.GARAGE, words(r"garage|carport")),
    (
        SafeDropPlace.RECEPTION,
        words(
            r"reception|front desk|security desk|concierge|rezeption|empfang|anmeldung|pfoertner"
            r"|porter|doorman"
        ),
    ),
    (
        SafeDropPlace.MAILBOX,
        words(r"mail ?box|letter ?box|post ?box|briefkasten|paketkasten|paketbox|parcel ?box"),
    ),
    (
        SafeDropPlace.NEIGHBOUR,
        words(
            r"neighbou?rs?",
            "neighbor",
            r"nieghbou?r",
            r"nachbar\w*",
            "nebenan",
            "next door",
            r"(with|at|to|bei|zu|an) (no\.?|nr\.?|number|nummer|hausnummer|#|haus) ?\d+\w?",
            r"bei (frau|herrn?|familie|fam\.?) [a-z]+",
            r"(with|to) (mr|mrs|ms)\.? [a-z]+",
            rf"bei (?!{_NOT_A_NAME})[a-z]{{3,}}(?= im| in| nebenan| gegenueber| oben| unten| eg| og|\s*$"
            r"| abgeben"
            r"| abstellen| lassen)",
            r"(flat|apartment|wohnung|apt\.?) ?\d+\w?",
        ),
    ),
    (
        SafeDropPlace.OTHER,
        words(
            r"shed|gartenhaus|gartenhaeuschen|schuppen|(the|a|wheelie|rubbish|recycling|green|blue|black"
            r"|dust) bins?|dustbin|trash ?can|garbage|tonne|muelltonne|driveway|einfahrt|hauseingang"
            r"|terrace|terrasse|balcony|balkon|patio|porch|veranda|garden|garten|stairs|staircase|stairwell"
            r"|treppe\w*|cellar|basement|keller|gate|gartentor|hedge|hecke|plant ?pot|blumentopf"
            r"|flower ?pot|bench|fence|zaun|steps|stufen|behind the (house|garage)|hinter dem haus"
            r"|hinters haus|wintergarten|vorgarten|hof|back ?yard|yard|box|kiste|bucket|eimer|storage"
            r"|abstellraum|stiegenhaus|stiege|hausflur|flur|hallway|lobby|foyer|eingangsbereich"
            r"|under (the|a)|unter (den|die|der|dem)|unterm|hinter (den|die|der|dem)|hinterm"
            r"|behind the"
        ),
    ),
)

# Words that make a place an instruction: leaving, putting, dropping the parcel somewhere.
_DROP = words(
    r"(leave|leav|lave|drop|put|place|deposit|hide|stick|throw|abstellen|abstelle|abgeben|abgegeben|ablegen"
    r"|ablage|hinterlegen|hinterlassen|legen|stellen|stell|leg|lassen|einwerfen|reinlegen|reinstellen"
    r"|deponieren)\w*|safe ?(place|drop)|ablageort|abstellort|abstellgenehmigung\w*|give it to|geben sie es"
    r"|bringen sie es|can go|(kann (auch )?|einfach )(in|an|vor|hinter|unter|bei|auf)|pop|chuck|bung|slip"
)
# A clause that is only a place ("Terrasse", "in the garage please").
_ONLY_PLACE = re.compile(
    r"^((please|pls|plz|bitte|ok|okay|just|einfach|gerne|also)\s+)*"
    r"((in|into|at|on|by|with|behind|under|to|im|in den|in die|ins|an|am|auf|bei|beim|hinter|unter|vor|zum|"
    r"zur)\s+)?"
    r"(the|my|our|die|der|den|das|dem|meine|meinen|unsere|unseren)?\s*"
    r"(?:[a-z0-9.#]+\s?){1,4}?\s*(please|pls|plz|bitte|thanks|thank you|danke|thx)?[\s.!]*$"
)
_CODE = re.compile(
    r"(?<!post)(?<!zip )(?<!plz )\b(code|pin|gate|tor|tuer|door|keypad|zugang\w*|eingang\w*|buzzer|"
    r"klingel\w*|entry|access|zahlen ?schloss|schloss|schluesselkasten|key ?box|key ?safe|lock ?box|"
    r"combination|kombination)"
    r"[a-z\s:=\-'\"]{0,30}?(?P<code>[#*]?\d[\d#*]{2,11}[a-z]?|(?<=\s)[a-z]\d{1,6})(?![\da-z])"
)
_NOT_A_CODE = words(r"order|bestell\w*|sendung\w*|tracking|postcode|post code|plz|postleitzahl|zip")


def access_code(text: str) -> intents.AccessCode | None:
    """A gate or door code given in words: a code word and a number of 3-12 digits (# and * allowed)."""
    m = _CODE.search(text)
    if m is None or _NOT_A_CODE.search(text[max(m.start() - 20, 0) : m.end()]):
        return None
    return intents.AccessCode(m["code"].upper())  # as typed: "#2580", "1990#" tell the driver which key


def place_in(text: str) -> SafeDropPlace | None:
    """The kind of place `text` (normalised) names first ("parcel box by the front door": the box), if any;
    a named kind before OTHER (steps, a shed) wherever it stands; at one word, the earlier in PLACE."""
    found = [(m.start(), n, place) for n, (place, pattern) in enumerate(PLACE) if (m := pattern.search(text))]
    named = [f for f in found if f[2] is not SafeDropPlace.OTHER] or found  # "die Treppe vor der Haustür"
    return min(named)[2] if named else None


# These make a safe-drop place the recipient's standing preference (every delivery, not just this one).
ALWAYS = re.compile(
    r"[,;]?\s*\b(always|every ?time|from now on|in future|immer|jedes ?mal|(zu)?k(ü|ue)nftig"
    r"|ab jetzt|ab sofort|alle (meine )?pakete|all (my )?(parcels|packages)"
    r"|for all (my |future |of my )*(deliveries|parcels|orders|packages)|f(ü|ue)r alle (k(ü|ue)nftigen )?"
    r"(lieferungen|pakete|sendungen))\b"
    r"(?!\s+(home|there|around|at home|da|do|zu ?hause|daheim|anwesend)\b|\s+in\s*([,.!;]"
    r"|$))[.!]*",  # "she's always in"
    re.I,
)
_FINE = words(r"is fine|is ok|is okay|works|ist ok|ist okay|ist in ordnung|geht|passt|reicht")
# Places specific enough to be an instruction after any preposition ("stop at the back door").
_SPECIFIC = frozenset(
    (
        SafeDropPlace.BACK_DOOR,
        SafeDropPlace.GARAGE,
        SafeDropPlace.MAILBOX,
        SafeDropPlace.NEIGHBOUR,
        SafeDropPlace.RECEPTION,
    )
)


def safe_drop_phrase(text: str) -> bool:
    """An instruction about where to leave it, not just a place mentioned in passing."""
    place = place_in(text)
    if place is None:
        return False
    if _DROP.search(text) or (place in _SPECIFIC and len(text.split()) <= 12) or _FINE.search(text):
        return True
    first = re.split(r"[,;!?]| - ", ALWAYS.sub("", text))[0].strip()
    return _ONLY_PLACE.match(first) is not None and place_in(first) is not None


def drops(text: str) -> bool:
    """Whether `text` (normalised) says to leave, put or hand over the parcel."""
    return _DROP.search(text) is not None
