"""Why a conversation needs a person: the reasons an escalation is opened for (bot/store/escalations.py)."""

from enum import StrEnum


class Reason(StrEnum):
    NOT_UNDERSTOOD = "not_understood"
    PERSON = "person"
    NOT_RECEIVED = "not_received"
    LOW_RATING = "low_rating"
    LATE = "late"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    NOTE_UNCONFIRMED = "note_unconfirmed"  # a changed stop the driver has not pressed "Got it" on
