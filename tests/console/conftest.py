"""The console reads a planned day built through the real use cases (tests/loop's fixture)."""

from tests.loop.conftest import planned_day

__all__ = ["planned_day"]
