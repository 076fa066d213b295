import pytest

from bench import dispatch
from bot.channels.sandbox import SandboxSent


def sends(*times: float, address: str = "+4915100000001", channel: str = "sms") -> list[SandboxSent]:
    return [SandboxSent(n, n, channel, address, "nearby", "x", t) for n, t in enumerate(times)]


def test_a_burst_beyond_the_bucket_is_counted() -> None:
    within = sends(*(i * 0.1 for i in range(10)))  # 10 a second
    assert dispatch.bucket_violations(within, per_second=10) == 0
    burst = sends(*(0.0 for _ in range(15)))  # 15 at once, bucket holds 10
    assert dispatch.bucket_violations(burst, per_second=10) == 5


def test_two_messages_to_one_address_inside_the_gap_are_counted() -> None:
    assert dispatch.gap_violations(sends(0.0, 1.0, 1.5, 3.0), gap=1.0) == 1
    two_people = sends(0.0, 0.1, address="+491") + sends(0.05, address="+492")
    assert dispatch.gap_violations(two_people, gap=1.0) == 1


def test_the_bench_sends_everything_within_the_limits(capsys: pytest.CaptureFixture[str]) -> None:
    dispatch.main(["--messages", "1500", "--recipients", "600", "--per-second", "2000"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("dispatch msgs_per_s=")
    assert last.endswith(" violations=0")
