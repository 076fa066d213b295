"""OsrmHttpMatrix against a real loopback server that answers like OSRM's ``table`` service."""

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from eta.geo import LatLon
from eta.matrix import MatrixError
from eta.osrm_http import OsrmHttpMatrix


def point(index: int) -> LatLon:
    """A point whose longitude encodes its index, so the fake server knows which point it sees."""
    return LatLon(lat=43.7, lon=index / 1000)


def _indices(raw: str | None, count: int) -> list[int]:
    return list(range(count)) if raw is None else [int(k) for k in raw.split(";")]


@dataclass
class FakeOsrm:
    """Durations 1000 * from + to (+0.4 to check rounding), distances twice that."""

    url: str = ""
    blocks: list[tuple[int, int]] = field(default_factory=list)
    raw_queries: list[str] = field(default_factory=list)

    async def table(self, request: Request) -> Response:
        profile = request.path_params["profile"]
        if profile in FAILURES:
            return await FAILURES[profile]()
        ids = [round(float(c.split(",")[0]) * 1000) for c in request.path_params["coords"].split(";")]
        sources = [ids[k] for k in _indices(request.query_params.get("sources"), len(ids))]
        targets = [ids[k] for k in _indices(request.query_params.get("destinations"), len(ids))]
        self.blocks.append((len(sources), len(targets)))
        self.raw_queries.append(request.url.query)
        hole = profile == "holes"
        durations = [[None if hole and s == 7 != t else 1000 * s + t + 0.4 for t in targets] for s in sources]
        distances = [[None if d is None else 2 * d for d in row] for row in durations]
        return JSONResponse({"code": "Ok", "durations": durations, "distances": distances})


async def _invalid() -> Response:
    body = {"code": "InvalidQuery", "message": "Query string malformed close to position 42"}
    return JSONResponse(body, status_code=400)


async def _no_table() -> Response:
    return JSONResponse({"code": "NoTable", "message": "No table found"})


async def _bad_gateway() -> Response:
    return PlainTextResponse("upstream went away", status_code=502)


async def _slow() -> Response:
    await asyncio.sleep(0.5)
    return JSONResponse({"code": "Ok"})


FAILURES = {"invalid": _invalid, "notable": _no_table, "gateway": _bad_gateway, "slow": _slow}


@pytest.fixture
async def osrm_server() -> AsyncIterator[FakeOsrm]:
    fake = FakeOsrm()
    app = Starlette(routes=[Route("/table/v1/{profile}/{coords}", fake.table)])
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # requests wait in the backlog until uvicorn accepts
        fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        yield fake
        server.should_exit = True
        await serving


async def test_250_points_in_100_blocks_assemble_the_full_matrix(osrm_server: FakeOsrm) -> None:
    provider = OsrmHttpMatrix(osrm_server.url, block=100)

    matrix = await provider.table([point(i) for i in range(250)])

    expected = 1000 * np.arange(250)[:, None] + np.arange(250)[None, :]
    assert np.array_equal(matrix.durations, expected)
    assert np.array_equal(matrix.distances, 2 * expected + 1)  # 2 * (x + 0.4) rounds up
    assert matrix.durations.dtype == np.uint32
    assert len(osrm_server.blocks) == 9
    assert max(s * d for s, d in osrm_server.blocks) == 100 * 100


async def test_query_keeps_osrm_separators_unescaped(osrm_server: FakeOsrm) -> None:
    await OsrmHttpMatrix(osrm_server.url, block=2).table([point(i) for i in range(3)])

    assert "annotations=duration,distance&sources=0;1&destinations=2" in osrm_server.raw_queries


async def test_shared_client_is_used_and_left_open(osrm_server: FakeOsrm) -> None:
    async with httpx.AsyncClient() as client:
        provider = OsrmHttpMatrix(osrm_server.url, client=client)
        await provider.table([point(1), point(2)])
        assert not client.is_closed


async def test_fewer_than_two_points_need_no_server() -> None:
    provider = OsrmHttpMatrix("http://127.0.0.1:9")

    assert (await provider.table([point(1)])).durations.shape == (1, 1)
    assert (await provider.table([])).size == 0


async def test_unreachable_pairs_name_the_point_indices(osrm_server: FakeOsrm) -> None:
    provider = OsrmHttpMatrix(osrm_server.url, profile="holes", block=4)

    with pytest.raises(MatrixError, match=r"9 duration pair\(s\).*7->0, 7->1"):
        await provider.table([point(i) for i in range(10)])


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("invalid", "HTTP 400 InvalidQuery: Query string malformed close to position 42"),
        ("notable", "HTTP 200 NoTable: No table found"),
        ("gateway", "HTTP 502: upstream went away"),
    ],
)
async def test_server_errors_carry_its_message(osrm_server: FakeOsrm, profile: str, message: str) -> None:
    provider = OsrmHttpMatrix(osrm_server.url, profile=profile)

    with pytest.raises(MatrixError, match=message):
        await provider.table([point(1), point(2)])


async def test_timeout_is_a_matrix_error(osrm_server: FakeOsrm) -> None:
    provider = OsrmHttpMatrix(osrm_server.url, profile="slow", timeout=0.05)

    # The slow server times the read out; on a busy machine (CI saw it) 50 ms can pass before the
    # loopback connect is accepted: a ConnectTimeout, the same MatrixError to the caller.
    with pytest.raises(MatrixError, match=r"(Read|Connect)Timeout"):
        await provider.table([point(1), point(2)])


async def test_server_down_is_a_matrix_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    with pytest.raises(MatrixError, match="ConnectError"):
        await OsrmHttpMatrix(url).table([point(1), point(2)])
