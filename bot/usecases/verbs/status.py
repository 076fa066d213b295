"""Where a delivery stands: its status and the window it is promised in."""

from dataclasses import dataclass
from datetime import datetime

from bot.domain.deliveries import Status
from bot.usecases.verbs import Work


@dataclass(frozen=True, slots=True)
class Standing:
    status: Status
    start: datetime  # the promised window (the delivery's own before anything is promised)
    end: datetime


def status(work: Work) -> Standing:
    promise, delivery = work.promise, work.delivery
    if promise is not None:
        return Standing(delivery.status, promise.start, promise.end)
    return Standing(delivery.status, delivery.window_start, delivery.window_end)
