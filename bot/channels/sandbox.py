"""The sandbox transport: stands in for Twilio and Telegram until they land, and in the demo and tests.

Like a real provider it keeps what it was sent in storage of its own (a SQLite file), so a crash of
Doorstep between the send and the outbox update leaves the same ambiguity a provider would, and
`lookup` can settle it the way reconciliation with Twilio's message list does.
"""

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.channels.base import Failure, Outgoing, Receipt, SendError

_SCHEMA = """
create table if not exists sent (
    seq integer primary key,
    message_id integer not null,
    channel text not null,
    address text not null,
    kind text not null,
    body text not null,
    payload text not null,
    wall_time real not null
);
create index if not exists sent_message on sent (message_id);
"""


@dataclass(frozen=True, slots=True)
class SandboxSent:
    seq: int
    message_id: int
    channel: str
    address: str
    kind: str
    body: str
    wall_time: float


class SandboxTransport:
    """Records every send; `failing` lets tests make chosen addresses fail the way providers do."""

    def __init__(self, path: Path, *, latency_ms: int = 0, reconcile: bool = True) -> None:
        self.path = path
        self.latency = latency_ms / 1000
        self.reconcile = reconcile
        self.failing: dict[str, SendError] = {}
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(_SCHEMA)

    async def send(self, message: Outgoing) -> Receipt:
        if self.latency:
            await asyncio.sleep(self.latency)
        if message.address in self.failing:
            raise self.failing[message.address]
        if not message.address:
            raise SendError(Failure.PERMANENT, "no address", code="invalid-address")
        cursor = self._db.execute(
            "insert into sent (message_id, channel, address, kind, body, payload, wall_time) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            (
                message.id,
                message.channel,
                message.address,
                message.kind,
                message.body,
                json.dumps(dict(message.payload)),
                time.time(),
            ),
        )
        return Receipt(f"sbx-{cursor.lastrowid}")

    async def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        if not self.reconcile:
            raise NotImplementedError("this sandbox plays a provider that cannot be asked what it sent")
        row = self._db.execute(
            "select seq from sent where message_id = ? order by seq limit 1", (message.id,)
        )
        found = row.fetchone()
        return Receipt(f"sbx-{found[0]}") if found else None

    def sent(self) -> list[SandboxSent]:
        rows = self._db.execute(
            "select seq, message_id, channel, address, kind, body, wall_time from sent order by seq"
        )
        return [SandboxSent(*row) for row in rows]

    async def close(self) -> None:
        self._db.close()
