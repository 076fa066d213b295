"""The recipient needs a person: they asked for one, report the parcel missing, or were not understood.

Each opens an escalation on the support queue with what they said; a reply from support goes back
on the channel they wrote from (bot/usecases/support.py).
"""

from dataclasses import dataclass

from bot.domain.escalations import Reason
from bot.store import escalations
from bot.usecases.verbs import Work, log


@dataclass(frozen=True, slots=True)
class Escalated:
    reason: Reason


async def ask_for_person(work: Work, why: str = "asked for a person") -> Escalated:
    return await _escalate(work, Reason.PERSON, why)


async def report_not_received(work: Work) -> Escalated:
    """Delivered, they say, but not there: support looks into it (the proof, the driver)."""
    await log(work, "delivery.not_received")
    return await _escalate(work, Reason.NOT_RECEIVED, "recipient reports the parcel missing")


async def not_understood(work: Work, text: str) -> Escalated:
    """Words nobody could read: support reads them, never a guess."""
    return await _escalate(work, Reason.NOT_UNDERSTOOD, text[:500])


async def _escalate(work: Work, reason: Reason, detail: str) -> Escalated:
    await escalations.open_one(work.conn, work.now, reason, detail, delivery_id=work.delivery.id)
    return Escalated(reason)
