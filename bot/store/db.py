"""The engine, its transactions, and migrations on start. The only place with SQLite-specific code."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent
_READONLY = "doorstep_readonly"


class Store:
    """The database: short write transactions (`tx`) and snapshot reads (`read`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite takes one writer at a time. Writers queue here, in order, instead of in SQLite's busy
        # handler, which sleeps and retries (up to 100 ms a try): under load that cost seconds a request.
        sqlite = engine.dialect.name == "sqlite"
        self._writer: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if sqlite else contextlib.nullcontext()
        )
        # Background writers go through this gate first, so at most one of them waits at a time
        # for the writer lock and `urgent` ones (a provider holding its request open) pass the rest.
        self._background = asyncio.Lock() if sqlite else contextlib.nullcontext()

    @asynccontextmanager
    async def tx(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        async with (
            contextlib.nullcontext() if urgent else self._background,
            self._writer,
            self.engine.begin() as conn,
        ):
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            await conn.execution_options(**{_READONLY: True})
            async with conn.begin():
                yield conn

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, *, echo: bool = False) -> Store:
    """Create the engine, apply every pending migration, and hand back the store."""
    engine = create_async_engine(url, echo=echo)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_to_head)
    return Store(engine)


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for writers (no lock upgrades mid-way)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
