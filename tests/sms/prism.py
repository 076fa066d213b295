"""Prism (npm @stoplight/prism-cli) serving Twilio's own OpenAPI spec, so every request is checked against it.

Prism answers 422 to a request the spec does not allow (a missing `To`, a malformed AccountSid or
StatusCallback, an unknown enum value) and otherwise the spec's example. The error spec is a copy with
400 examples (21610, 21211, 21611) and a 429 example (20429) on POST Messages, chosen by a `Prefer` header.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from tests.shared_data import shared_data_dir

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / "node_modules" / ".bin" / "prism"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
ERRORS = {  # example name -> (HTTP status, Twilio code, message)
    "optout": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "invalid": (400, 21211, "Invalid 'To' Phone Number"),
    "busy": (429, 20429, "Too Many Requests"),
    "overflow": (400, 21611, "This 'From' number has exceeded the maximum number of queued messages"),
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string"},
        "status": {"type": "integer"},
    },
}


class PreferHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """The production http client plus Prism's `Prefer` header (test-only: picks an error example)."""

    prefer: str | None = None

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.prefer is not None:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Prefer": self.prefer}
        return await super().request(method, url, *args, **kwargs)


def prefer(example: str) -> str:
    return f"code={ERRORS[example][0]}, example={example}"


def twilio_spec() -> Path:
    path = shared_data_dir() / "twilio" / "twilio_api_v2010.json"
    if not path.exists():
        pytest.skip(f"shared data {path} not found; set DOORSTEP_SHARED_DATA to the folder holding it")
    return path


def error_spec(source: Path, target: Path) -> Path:
    """A copy of the spec whose POST Messages also documents our 400 and 429 answers."""
    spec = json.loads(source.read_text())
    responses = spec["paths"][MESSAGES]["post"]["responses"]
    for name, (status, code, said) in ERRORS.items():
        value = {"code": code, "message": said, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        answer = responses.setdefault(
            str(status),
            {"description": said, "content": {"application/json": {"schema": ERROR_SCHEMA, "examples": {}}}},
        )
        answer["content"]["application/json"]["examples"][name] = {"value": value | {"status": status}}
    target.write_text(json.dumps(spec))
    return target


def prism_unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node not found: Prism (npm @stoplight/prism-cli) cannot run here"
    if not PRISM.exists():
        return "node_modules/.bin/prism is missing: run `./dev test` (it runs `npm ci`)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Prism exited: {log.read_text()[-2000:]}")
        if "Prism is listening" in log.read_text():
            return
        time.sleep(0.1)
    raise RuntimeError(f"Prism did not listen on {port} within {within} s")


def run_prism(spec: Path, log: Path) -> Iterator[str]:
    """Prism on a free loopback port (started as one node process, so terminate reaches it)."""
    if reason := prism_unavailable():
        if os.environ.get("CI") == "true" and shutil.which("npm"):
            pytest.fail(f"{reason} (CI has npm, so `./dev test` should have installed it)")
        pytest.skip(reason)
    port = _free_port()
    with log.open("wb") as out:
        where = ["--host", "127.0.0.1", "--port", str(port), "--errors", "false"]
        args = [str(PRISM), "mock", str(spec), *where]
        process = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of Prism serving Twilio's spec as published."""
    spec = twilio_spec()
    yield from run_prism(spec, tmp_path_factory.mktemp("prism") / "prism.log")


@pytest.fixture(scope="session")
def prism_errors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of Prism serving the spec with 400/429 examples (pick one with `prefer(...)`)."""
    folder = tmp_path_factory.mktemp("prism-errors")
    spec = error_spec(twilio_spec(), folder / "twilio.errors.json")
    yield from run_prism(spec, folder / "prism.log")
