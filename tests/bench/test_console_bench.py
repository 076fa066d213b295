import re

import pytest

from bench import console


def test_the_bench_times_every_console_query(capsys: pytest.CaptureFixture[str]) -> None:
    console.main(["--deliveries", "300", "--routes", "6", "--messages", "3000", "--runs", "3"])
    lines = capsys.readouterr().out.strip().splitlines()
    timed = {line.split()[0] for line in lines[1:-1]}
    queries = {"board", "board_filtered", "timeline", "search_order", "search_name", "search_phone", "queue"}
    pages = {"page_board", "page_board_filtered", "page_delivery", "page_search", "page_queue"}
    assert timed == queries | pages
    assert re.fullmatch(r"console p50_ms=\d+\.\d p95_ms=\d+\.\d", lines[-1])
