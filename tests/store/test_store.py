import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.store import events
from bot.store.db import Store, alembic_config, open_store
from bot.store.tables import metadata

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    yield opened
    await opened.close()


async def test_migrations_build_exactly_the_tables_the_code_uses(store: Store) -> None:
    async with store.read() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    assert diff == []


async def test_opening_twice_is_harmless_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}"
    first = await open_store(url)
    async with first.tx() as conn:
        await events.append(conn, T, "test.kept", actor="test")
    await first.close()
    second = await open_store(url)
    async with second.read() as conn:
        kinds = (await conn.execute(sa.text("select kind from events"))).scalars().all()
        version = (await conn.execute(sa.text("select version_num from alembic_version"))).scalar()
    await second.close()
    assert kinds == ["test.kept"]
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_sqlite_runs_in_wal_with_foreign_keys(store: Store) -> None:
    async with store.read() as conn:
        assert (await conn.execute(sa.text("pragma journal_mode"))).scalar() == "wal"
        assert (await conn.execute(sa.text("pragma foreign_keys"))).scalar() == 1
        with pytest.raises(sa.exc.IntegrityError):
            await events.append(conn, T, "x", actor="t", delivery_id=999)


async def test_events_are_append_only(store: Store) -> None:
    async with store.tx() as conn:
        await events.append(conn, T, "delivery.created", actor="test")
    for statement in ("update events set kind = 'forged'", "delete from events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            async with store.tx() as conn:
                await conn.execute(sa.text(statement))
    async with store.read() as conn:
        assert (await conn.execute(sa.text("select kind from events"))).scalars().all() == [
            "delivery.created"
        ]


async def test_times_come_back_aware_in_utc(store: Store) -> None:
    local = T.astimezone(timezone(timedelta(hours=1)))
    async with store.tx() as conn:
        await events.append(conn, local, "t", actor="test")
    async with store.read() as conn:
        stored = (await conn.execute(sa.text("select at from events"))).scalar()
        (event,) = (await conn.execute(sa.select(metadata.tables["events"]))).all()
    assert stored == "2026-11-23 09:30:00.000000"
    assert event.at == T
    assert event.at.tzinfo == UTC


async def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        async with store.tx() as conn:
            await events.append(conn, datetime(2026, 11, 23, 9, 30), "t", actor="test")  # noqa: DTZ001


async def test_concurrent_writers_wait_instead_of_failing(store: Store) -> None:
    async def writer(n: int) -> None:
        for i in range(20):
            async with store.tx() as conn:
                await events.append(conn, T, f"w{n}.{i}", actor="test")
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(5)))
    async with store.read() as conn:
        assert (await conn.execute(sa.text("select count(*) from events"))).scalar() == 100


FILLER = {
    "INTEGER": 1,
    "FLOAT": 1.0,
    "BOOLEAN": 1,
    "DATE": "2026-11-23",
    "DATETIME": "2026-11-23 08:00:00.000000",
}


async def test_every_migration_upgrades_a_store_that_holds_a_day(tmp_path: Path) -> None:
    """Each revision after the first applied to a database with rows that point at each other."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("pragma foreign_keys=ON")
        command.upgrade(alembic_config(conn), "0003")
        for table in (
            "depots",
            "drivers",
            "recipients",
            "deliveries",
            "plans",
            "routes",
            "stops",
            "messages",
        ):
            columns = conn.exec_driver_sql(f"pragma table_info({table})").all()
            wanted = [
                c for c in columns if c[3] and c[4] is None and not c[5]
            ]  # not null, no default, not pk
            values = [FILLER.get(c[2].split("(")[0].upper(), "x") for c in wanted]
            names = ", ".join(c[1] for c in wanted)
            conn.exec_driver_sql(
                f"insert into {table} ({names}) values ({', '.join('?' * len(values))})", tuple(values)
            )
    engine.dispose()

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")  # upgrades to head
    async with store.read() as conn:
        assert (await conn.execute(sa.text("select count(*) from routes"))).scalar() == 1
        version = (await conn.execute(sa.text("select version_num from alembic_version"))).scalar()
    await store.close()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
