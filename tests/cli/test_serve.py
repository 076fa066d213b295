"""`doorstep serve` as a process: it answers, and a SIGTERM (systemd, docker stop) ends it cleanly."""

import signal
from pathlib import Path

from bench.sms_inbound import free_port, start_server, wait_ready


async def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", server)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, (tmp_path / "server.log").read_text()[-2000:]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
