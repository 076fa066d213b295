"""With DEBUG logging on, no library logs the parameters of our SQL: access codes, phones, token hashes."""

import logging
from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from bot.composition import build_services
from bot.config import Settings
from bot.logs import setup_logging
from bot.usecases import staff
from bot.usecases.inbound import sandbox_reply
from bot.usecases.intake import import_deliveries
from sim.sample import sample_day
from tests.conftest import DAY

PHONE = "+4915123456789"
CODE = "97531"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)


@pytest.mark.usefixtures("restore_logging")
async def test_debug_logging_shows_no_code_phone_or_token_hash(
    settings: Settings, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG")
    echoing = settings.model_copy(update={"store": settings.store.model_copy(update={"echo": True})})
    services = await build_services(echoing, clock)
    try:
        row = {**sample_day(DAY, 1, 1)["deliveries"][0], "phone": PHONE}
        await import_deliveries(services.store, services.clock, services.settings.day, [(1, row)])
        await sandbox_reply(services, 1, f"CODE {CODE}")
        async with services.store.read() as conn:
            stored = await conn.exec_driver_sql("select access_code, phone from deliveries")
            assert tuple(stored.one()) == (CODE, PHONE)
        await staff.add_user(services, "alice", "correct horse battery", "agent", actor="test")
        signed = await staff.sign_in(services, "alice", "correct horse battery", "127.0.0.1")
        assert isinstance(signed, staff.SignedIn)
    finally:
        await services.close()
    logged = capsys.readouterr()
    output = logged.err + logged.out
    assert "sqlalchemy.engine" in output  # the SQL is echoed, as asked...
    for secret in (CODE, PHONE.removeprefix("+"), staff.token_hash(signed.token)):
        assert secret not in output  # ...without its parameters
