import re

import pytest

from bench import track


def test_the_bench_serves_pages_and_brings_every_moved_window_to_its_viewer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    track.main(
        ["--deliveries", "300", "--routes", "6", "--messages", "2000", "--viewers", "40", "--pages", "20"]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    last = re.fullmatch(r"track page_p95_ms=[\d.]+ viewers=(\d+) update_p95_s=[\d.]+", lines[-1])
    assert last is not None, lines
    viewers = next(line for line in lines if line.startswith("live viewers"))
    changed, unchanged = (int(n) for n in re.findall(r"(?:changed|unchanged)=(\d+)", viewers))
    assert (
        changed + unchanged == 40
    )  # every viewer's stream opened; an unchanged one was checked by the bench
    assert int(last[1]) == changed > 0
