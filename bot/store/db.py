"""The engine, its transactions, and migrations on start, after checking the database is Doorstep's and
sound. The only place with SQLite-specific code."""

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

import migrations
from bot.logs import hide_library_parameters

MIGRATIONS_DIR = Path(migrations.__file__).parent
APPLICATION_ID = 0x44525354  # "DRST" in the SQLite header (PRAGMA application_id): the file is Doorstep's
log = logging.getLogger(__name__)
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
        # Called after each write transaction commits (cheap, synchronous: the recipient's live pages
        # hear of this process's changes at once; other processes' changes are polled for).
        self.on_commit: list[Callable[[], None]] = []

    @asynccontextmanager
    async def tx(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        async with (
            contextlib.nullcontext() if urgent else self._background,
            self._writer,
            self.engine.begin() as conn,
        ):
            yield conn
        for listener in self.on_commit:
            listener()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            await conn.execution_options(**{_READONLY: True})
            async with conn.begin():
                yield conn

    async def probe(self, write: Callable[[AsyncConnection], Awaitable[None]], seconds: float) -> None:
        """Run one short write transaction within about `seconds`, or raise: TimeoutError when
        our own writers hold the database that long, else the database's error (locked by another
        process, disk full). Only the wait for our own writers is cancelled, never a statement."""
        async with contextlib.AsyncExitStack() as held:
            async with asyncio.timeout(seconds):
                await held.enter_async_context(self._writer)
            if self.engine.dialect.name != "sqlite":
                async with asyncio.timeout(seconds), self.engine.begin() as conn:
                    await write(conn)
                return
            async with self.engine.connect() as conn:
                # A deferred BEGIN takes no lock: the write waits for SQLite's lock at most `seconds`,
                # not the busy timeout every other writer gets (set back afterwards).
                await conn.execution_options(**{_READONLY: True})
                usual = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={round(seconds * 1000)}")
                try:
                    await write(conn)
                    await conn.commit()
                finally:
                    await conn.rollback()
                    await conn.exec_driver_sql(f"PRAGMA busy_timeout={int(usual or 0)}")

    async def close(self) -> None:
        await self.engine.dispose()


class StoreError(Exception):
    """The database cannot be used as it is (missing, not Doorstep's, newer, read-only, corrupt): one line."""


async def open_store(url: str, *, echo: bool = False, create: bool = True) -> Store:
    """Check the database, create the engine, apply every pending migration, and hand back the store.

    `create`: a missing or empty SQLite file becomes a new Doorstep database (said in the log); without
    it that is refused like any file Doorstep must not use (StoreError)."""
    hide_library_parameters()
    path = _sqlite_file(url)
    fresh = await asyncio.to_thread(_check_sqlite_file, path, create=create) if path else False
    where = str(path) if path else make_url(url).render_as_string(hide_password=True)
    # echo shows the SQL, never its values (access codes, phones, token hashes), nor do its errors.
    engine = create_async_engine(url, echo=echo, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to_head, where)
    except (StoreError, DBAPIError) as exc:
        await engine.dispose()
        raise exc if isinstance(exc, StoreError) else StoreError(f"{where}: {exc.orig}") from None
    if fresh:
        log.warning("created a new Doorstep database at %s", where)
    return Store(engine)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def _check_sqlite_file(path: Path, *, create: bool) -> bool:
    """Whether `path` is still to be made (missing, empty); StoreError for a file Doorstep must not use."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return _may_create(
            path, "no such database" if not path.exists() else "no Doorstep database in it yet", create
        )
    if not path.is_file():
        raise StoreError(f"{path} is not a file: point DOORSTEP_STORE__URL at a database file")
    if not _writable(path):
        raise StoreError(
            f"{path} is read-only: Doorstep writes to its database (and to -wal and -shm files beside it); "
            "make the file and its folder writable for this user"
        )
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=10)) as conn:
            if not _doorstep_tables(path, conn):
                return _may_create(path, "no Doorstep database in it yet", create)
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        problems = [_unreadable(path, exc)]
    if problems != ["ok"]:
        found = " ".join(problems).replace("*** in database main ***", "").split()
        raise StoreError(f"{path} is corrupt ({' '.join(found)}): {_RESTORE}")
    return False


def _unreadable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """What a corrupt file says; StoreError for every other reason a file cannot be read."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_CORRUPT"):
        return str(exc)
    if name == "SQLITE_NOTADB":
        raise StoreError(f"{path} is not an SQLite database ({exc})") from None
    raise StoreError(f"{path} cannot be read ({exc})") from None


def _writable(path: Path) -> bool:
    """The file, and its folder unless the -wal and -shm files SQLite keeps beside it are there already."""
    beside = [path.with_name(f"{path.name}-{end}") for end in ("wal", "shm")]
    sidecars = all(p.exists() and os.access(p, os.W_OK) for p in beside)
    return os.access(path, os.W_OK) and (sidecars or os.access(path.parent, os.W_OK))


_RESTORE = "restore it from a backup (`sqlite3 FILE .recover` may save part of it)"
_NEW = "check DOORSTEP_STORE__URL, or make a new one with `doorstep import` or `doorstep serve`"


def _may_create(path: Path, why: str, create: bool) -> bool:
    if not create:
        raise StoreError(f"{path}: {why}; {_NEW}")
    if not path.parent.is_dir():
        raise StoreError(f"{path}: no such folder for a new database")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoreError(f"{path}: cannot create a database there (read-only)")
    return True


def _doorstep_tables(path: Path, conn: sqlite3.Connection) -> bool:
    """True for Doorstep's database, False for one without any table yet; StoreError for another's."""
    (app_id,) = conn.execute("PRAGMA application_id").fetchone()
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    tables = [row[0] for row in conn.execute(query)]
    if app_id == APPLICATION_ID or (app_id == 0 and {"alembic_version", "deliveries"} <= set(tables)):
        return True  # the second: made before the header said so
    if app_id == 0 and not tables:
        return False
    held = f"another application's tables: {', '.join(tables[:6])}{' …' if len(tables) > 6 else ''}"
    raise StoreError(
        f"{path} is not a Doorstep database ({held if tables else f'application id {app_id:#x}'}); "
        "point DOORSTEP_STORE__URL at Doorstep's file, or at a new one"
    )


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


def _upgrade_to_head(connection: Connection, where: str) -> None:
    """Refuse a schema newer than this code's, then migrate to head (and mark an SQLite file as ours)."""
    config = alembic_config(connection)
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = [r for r in MigrationContext.configure(connection).get_current_heads() if r not in known]
    if unknown:
        raise StoreError(
            f"{where} was written by a newer Doorstep (schema {', '.join(unknown)}; this one knows up to "
            f"{script.get_current_head()}): upgrade Doorstep, or point DOORSTEP_STORE__URL at another file"
        )
    command.upgrade(config, "head")
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
