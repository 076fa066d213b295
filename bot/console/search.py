"""Find a delivery by what a caller says: an order id, a name, or a phone number as they read it out.

- order id: exactly, or as its start (as typed, and upper-cased).
- name: anywhere in the name, ignoring case.
- phone: when the query is only digits, spaces and + - / ( ) with at least 6 digits. Its digits,
  without a leading 00 or 0 (the international and national prefixes), must appear in the stored
  E.164 number: "0151 234 5678", "+49 151 2345678", "0049151..." and "2345678" all find
  +491512345678. Numbers are stored in E.164, so no other rewriting is needed.
Best first: exact order id, order id prefix, phone, name; then the latest day first.
"""

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.store.deliveries import escape_like
from bot.store.tables import deliveries

MIN_PHONE_DIGITS = 6
_PHONE_LIKE = re.compile(r"^[\d\s+\-/().]+$")
_HIGHEST = "\U0010ffff"  # sorts after any character an order id can hold
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # SQLite's LIKE stops at a NUL: "%\x00%" would match everything


class Matched(StrEnum):
    ORDER_ID = "order_id"
    ORDER_PREFIX = "order_prefix"
    PHONE = "phone"
    NAME = "name"


_RANK = {m: n for n, m in enumerate(Matched)}
_BY_RANK = dict(enumerate(Matched))


@dataclass(frozen=True, slots=True)
class Hit:
    delivery_id: int
    order_id: str
    name: str
    phone: str
    address: str
    date: date
    status: Status
    timezone: str
    matched: Matched


async def search(conn: AsyncConnection, query: str, limit: int = 20) -> list[Hit]:
    """Deliveries matching `query` by order id, name or phone, best first."""
    text = _CONTROL.sub("", query).strip()
    if not text:
        return []
    digits = phone_digits(text)
    orders = [text, text.upper()]
    prefix = sa.or_(
        *[sa.and_(deliveries.c.order_id >= o, deliveries.c.order_id < o + _HIGHEST) for o in orders]
    )
    by_phone = deliveries.c.phone.like(f"%{digits}%") if digits else sa.false()
    by_name = deliveries.c.name.ilike(f"%{escape_like(text)}%", escape="\\")
    rank = sa.case(
        (deliveries.c.order_id.in_(orders), _RANK[Matched.ORDER_ID]),
        (prefix, _RANK[Matched.ORDER_PREFIX]),
        (by_phone, _RANK[Matched.PHONE]),
        else_=_RANK[Matched.NAME],
    ).label("rank")
    select = sa.select(
        deliveries.c.id, deliveries.c.order_id, deliveries.c.name, deliveries.c.phone, deliveries.c.address,
        deliveries.c.date, deliveries.c.status, deliveries.c.timezone, rank,
    ).where(sa.or_(prefix, by_phone, by_name))  # fmt: skip
    rows = await conn.execute(
        select.order_by(rank, deliveries.c.date.desc(), deliveries.c.order_id).limit(limit)
    )
    return [Hit(*row[:6], Status(row.status), row.timezone, _BY_RANK[row.rank]) for row in rows]


def phone_digits(text: str) -> str | None:
    """The digits to look for in stored numbers, or None if `text` does not read as (part of) one."""
    if not _PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    digits = digits[2:] if digits.startswith("00") else digits.removeprefix("0")
    return digits if len(digits) >= MIN_PHONE_DIGITS else None
