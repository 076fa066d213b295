import re

import pytest

from bench import sms_inbound

LAST = re.compile(r"sms_inbound req_per_s=\d+ p50_ms=[\d.]+ p99_ms=[\d.]+ sent=(\d+) stored=(\d+)")


def test_every_message_sent_to_the_real_server_is_stored_once(capsys: pytest.CaptureFixture[str]) -> None:
    sms_inbound.main(["--requests", "300", "--concurrency", "8", "--deliveries", "40", "--seconds", "60"])
    lines = capsys.readouterr().out.strip().splitlines()
    found = LAST.fullmatch(lines[-1])
    assert found is not None, lines[-1]
    sent, stored = map(int, found.groups())
    assert sent == stored > 250  # about 5 % of the 300 are retries of sids already sent
    assert any(line.startswith("retries=") and " stored_twice=0 missing=0" in line for line in lines)
