"""The recipient rates a delivery, and may say more; support reads a low rating and any comment that
asks for something."""

from dataclasses import dataclass

from bot.domain.deliveries import Status
from bot.domain.escalations import Reason
from bot.store import deliveries as delivery_store
from bot.store import escalations
from bot.usecases.verbs import Refused, Work, log

LOW = 2  # stars: this and below go to support


@dataclass(frozen=True, slots=True)
class Rated:
    stars: int


@dataclass(frozen=True, slots=True)
class Commented:
    pass


async def rate(work: Work, stars: int, comment: str = "") -> Rated | Refused:
    """1-5 stars, with an optional comment (kept up to 1000 characters)."""
    if work.delivery.status is not Status.DELIVERED:
        return Refused("not_delivered")
    values = {"rating": stars, "rating_comment": comment[:1000] or None}
    await delivery_store.update(work.conn, work.delivery.id, values, work.now)
    await log(work, "delivery.rated", {"stars": stars})
    if stars <= LOW:
        await _escalate(work, Reason.LOW_RATING, f"{stars}/5 {comment[:500]}")
    return Rated(stars)


async def comment(work: Work, text: str, *, asks: bool = False) -> Commented | Refused:
    """What they add after rating, kept with it. `asks`: it asks for something (support answers).
    Refused ("not_rated") before any rating: the surface reads the text as something else."""
    rating = work.delivery.rating
    if rating is None:
        return Refused("not_rated")
    await delivery_store.update(work.conn, work.delivery.id, {"rating_comment": text[:1000]}, work.now)
    await log(work, "delivery.rating_comment", {"length": len(text)})
    if rating <= LOW or asks:
        await _escalate(
            work, Reason.LOW_RATING if rating <= LOW else Reason.PERSON, f"{rating}/5, then: {text[:500]}"
        )
    return Commented()


async def _escalate(work: Work, reason: Reason, detail: str) -> None:
    await escalations.open_one(work.conn, work.now, reason, detail, delivery_id=work.delivery.id)
