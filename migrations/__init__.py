"""Alembic migrations, applied by `open_store` on every start."""
