"""Proof of delivery: a photo of where the parcel was left, from the driver's Telegram chat (downloaded
when it comes) or from a driver app (the ops API). Doorstep keeps the image; the recipient's page shows
the newest one of a delivered parcel (bot/usecases/tracking.py).
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store import events, photos
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError

MAX_BYTES = 5 * 1024 * 1024
# A photo is taken at the door: once the driver is there, whatever came of it.
AT_THE_DOOR = frozenset({Status.ARRIVED, Status.DELIVERED, Status.FAILED})


def image_type(data: bytes) -> str | None:
    """The image's media type from its first bytes (JPEG, PNG or WebP), or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked(data: bytes) -> str:
    """The media type of a photo we can keep; UseCaseError says what is wrong with it."""
    if not data:
        raise UseCaseError("the photo is empty", field="photo")
    if len(data) > MAX_BYTES:
        raise UseCaseError(f"the photo is over {MAX_BYTES // (1024 * 1024)} MB", field="photo")
    kind = image_type(data)
    if kind is None:
        raise UseCaseError("the photo is not a JPEG, PNG or WebP image", field="photo")
    return kind


async def keep(
    conn: AsyncConnection,
    delivery_id: int,
    data: bytes,
    now: datetime,
    *,
    source: str,
    ref: str | None = None,
) -> int:
    """Store a checked photo with its delivery (the caller's transaction)."""
    return await photos.add(conn, delivery_id, now, checked(data), data, source=source, ref=ref)


async def add_photo(services: Services, delivery_id: int, data: bytes, *, actor: str) -> int:
    """A driver app's photo at a stop it is at or has done; returns the photo's id."""
    kind = checked(data)
    async with services.store.tx() as conn:
        now = services.clock.now()
        delivery = await delivery_store.get(conn, delivery_id)
        if delivery is None:
            raise NotFoundError(f"delivery {delivery_id} not found")
        if delivery.status not in AT_THE_DOOR:
            raise ConflictError(
                f"delivery {delivery_id} is {delivery.status}: a photo is taken at the door", field="photo"
            )
        photo_id = await photos.add(conn, delivery_id, now, kind, data, source="api")
        data_ = {"photo_id": photo_id, "bytes": len(data), "content_type": kind}
        await events.append(conn, now, "delivery.photo", actor=actor, delivery_id=delivery_id, data=data_)
        return photo_id
