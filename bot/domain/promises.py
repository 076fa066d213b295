"""A promise: the window we hold for a recipient's delivery, versioned (the ledger: bot/store/promises.py)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Promise:
    delivery_id: int
    version: int
    start: datetime
    end: datetime
    reason: str
    told_at: datetime | None = None
