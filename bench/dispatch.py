"""Outbox throughput into the sandbox provider, rate limits on, checked against the provider's own records.

    python -m bench.dispatch [--messages 20000] [--recipients 8000]

Every message goes through the real path: enqueue (idempotent insert), leased claim, rate limiter,
sandbox send (its own SQLite file), batched result write-back. Violations are counted from the
provider's timestamps, not from our own bookkeeping: a send with no token left in its channel's
bucket, or two sends to one address closer than the per-recipient gap.
Last line: `dispatch msgs_per_s=X violations=N`.
"""

import argparse
import asyncio
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bot.channels.dispatch import Dispatcher
from bot.channels.sandbox import SandboxSent, SandboxTransport
from bot.clock import SystemClock
from bot.config import OutboxSettings
from bot.domain.messages import FINAL, NewMessage
from bot.store import outbox
from bot.store.db import Store, open_store

TOLERANCE_S = 0.002  # timestamps are taken a few microseconds after the limiter's decision


def settings(per_second: float, gap: float) -> OutboxSettings:
    return OutboxSettings(
        batch_size=500,
        concurrency=256,
        sms_per_second=per_second,
        telegram_per_second=per_second,
        per_recipient_seconds=gap,
        poll_seconds=0.05,
    )


def messages(count: int, recipients: int, now: datetime) -> list[NewMessage]:
    return [
        NewMessage(
            idem_key=f"bench:{n}",
            kind="nearby",
            channel="sms" if n % 3 else "telegram",
            address=f"+49151{n % recipients:08d}",
            locale="en",
            timezone="Europe/Berlin",
            body=f"Your parcel is 3 stops away (message {n}).",
            due_at=now,
            urgent=True,
        )
        for n in range(count)
    ]


async def run(count: int, recipients: int, per_second: float, gap: float, folder: Path) -> tuple[float, int]:
    store = await open_store(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    sandbox = SandboxTransport(folder / "sandbox.db")
    config = settings(per_second, gap)
    dispatcher = Dispatcher(
        store, SystemClock(), {"sms": sandbox, "telegram": sandbox}, config, owner="bench"
    )
    async with store.tx() as conn:
        await outbox.enqueue(conn, messages(count, recipients, datetime.now(UTC)), datetime.now(UTC))
    started = time.perf_counter()
    await until_all_final(store, dispatcher)
    elapsed = time.perf_counter() - started
    sent = sandbox.sent()
    violations = bucket_violations(sent, per_second) + gap_violations(sent, gap)
    assert len(sent) == count, f"{len(sent)} of {count} sent"
    await sandbox.close()
    await store.close()
    return count / elapsed, violations


async def until_all_final(store: Store, dispatcher: Dispatcher) -> None:
    while True:
        if not await dispatcher.run_once():
            async with store.read() as conn:
                counts = await outbox.counts(conn)
            if all(status in FINAL for status in counts):
                return
            await asyncio.sleep(0.01)


def bucket_violations(sent: list[SandboxSent], per_second: float) -> int:
    """Replay each channel's sends through a bucket like the limiter's; a send with no token is counted."""
    violations = 0
    for channel in {s.channel for s in sent}:
        tokens, last = max(1.0, per_second), None
        for s in (s for s in sent if s.channel == channel):
            if last is not None:
                tokens = min(max(1.0, per_second), tokens + (s.wall_time - last) * per_second)
            last = s.wall_time
            if tokens < 1 - TOLERANCE_S * per_second:
                violations += 1
            tokens -= 1
    return violations


def gap_violations(sent: list[SandboxSent], gap: float) -> int:
    previous: dict[tuple[str, str], float] = defaultdict(lambda: float("-inf"))
    violations = 0
    for s in sent:
        key = (s.channel, s.address)
        violations += s.wall_time - previous[key] < gap - TOLERANCE_S
        previous[key] = s.wall_time
    return violations


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=8_000, help="fewer than messages: some get several")
    parser.add_argument("--per-second", type=float, default=3_000.0, help="limit per channel (sms, telegram)")
    parser.add_argument(
        "--gap", type=float, default=1.0, help="least seconds between two messages to one address"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rate, violations = asyncio.run(
            run(args.messages, args.recipients, args.per_second, args.gap, Path(folder))
        )
    print(
        f"messages={args.messages} recipients={args.recipients} limit_per_channel={args.per_second:g}/s "
        f"gap_s={args.gap:g}"
    )
    print(f"dispatch msgs_per_s={rate:.0f} violations={violations}")


if __name__ == "__main__":
    main()
