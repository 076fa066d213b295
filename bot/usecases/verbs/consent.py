"""Opting out of a channel's messages (STOP, or in words) and back in (START, YES)."""

from bot.domain.contacts import ContactState
from bot.store import contacts
from bot.usecases.verbs import Work, log


async def opt_out(work: Work, channel: str) -> None:
    """No more messages on `channel` to this recipient; the others keep theirs."""
    await _set(work, channel, ContactState.OPTED_OUT, "recipient.opted_out")


async def opt_in(work: Work, channel: str) -> None:
    await _set(work, channel, ContactState.ACTIVE, "recipient.opted_in")


async def _set(work: Work, channel: str, state: ContactState, kind: str) -> None:
    await contacts.set_state(work.conn, work.delivery.recipient_id, channel, state, work.now)
    await log(work, kind, {"channel": channel})
