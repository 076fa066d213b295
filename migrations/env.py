"""Alembic environment: runs on the connection `open_store` hands over (or a URL for the alembic CLI)."""

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///doorstep.db"
    with create_engine(url).begin() as sync_connection:
        _run(sync_connection)
