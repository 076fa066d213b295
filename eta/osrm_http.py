"""Travel times from the ``table`` service of an OSRM server, fetched in blocks so any size works."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from eta.geo import LatLon
from eta.matrix import IntMatrix, Matrix, MatrixError

type FloatMatrix = npt.NDArray[np.float64]
type Block = tuple[range, range]


def zero_matrix(size: int) -> Matrix:
    """The matrix of zero or one point: OSRM refuses tables of fewer than two coordinates."""
    return Matrix(np.zeros((size, size), np.uint32), np.zeros((size, size), np.uint32))


def to_uint32(values: FloatMatrix, what: str) -> IntMatrix:
    """Round an OSRM table; NaN (OSRM's null: no road route) raises MatrixError naming the pairs."""
    missing = np.argwhere(np.isnan(values))
    if missing.size:
        pairs = ", ".join(f"{i}->{j}" for i, j in missing[:5].tolist())
        raise MatrixError(f"no road route for {len(missing)} {what} pair(s) of point indices: {pairs}")
    return np.rint(values).astype(np.uint32)


@dataclass(frozen=True)
class OsrmHttpMatrix:
    """Port adapter for an OSRM server's ``table`` service; asks for at most block x block pairs at once.

    Unreachable pairs (null in OSRM's answer) raise MatrixError naming the point indices.
    """

    base_url: str
    profile: str = "driving"
    client: httpx.AsyncClient | None = field(default=None, repr=False)
    block: int = 100
    concurrency: int = 4
    timeout: float = 30.0
    name: str = "osrm_http"

    async def table(self, points: Sequence[LatLon]) -> Matrix:
        size = len(points)
        if size < 2:
            return zero_matrix(size)
        durations, distances = np.full((size, size), np.nan), np.full((size, size), np.nan)
        limit = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:
            try:
                async with asyncio.TaskGroup() as tasks:
                    for block in self._blocks(size):
                        tasks.create_task(self._fill(client, limit, points, block, (durations, distances)))
            except ExceptionGroup as group:
                raise group.exceptions[0] from None
        return Matrix(to_uint32(durations, "duration"), to_uint32(distances, "distance"))

    def _blocks(self, size: int) -> list[Block]:
        starts = range(0, size, self.block)
        spans = [range(start, min(start + self.block, size)) for start in starts]
        return [(rows, cols) for rows in spans for cols in spans]

    async def _fill(
        self,
        client: httpx.AsyncClient,
        limit: asyncio.Semaphore,
        points: Sequence[LatLon],
        block: Block,
        out: tuple[FloatMatrix, FloatMatrix],
    ) -> None:
        rows, cols = block
        async with limit:
            body = await self._get(client, self._url(points, rows, cols))
        where = (slice(rows.start, rows.stop), slice(cols.start, cols.stop))
        out[0][where] = _values(body, "durations", (len(rows), len(cols)))
        out[1][where] = _values(body, "distances", (len(rows), len(cols)))

    def _url(self, points: Sequence[LatLon], rows: range, cols: range) -> str:
        indices = list(rows) if rows == cols else [*rows, *cols]
        coords = ";".join(f"{points[i].lon:.6f},{points[i].lat:.6f}" for i in indices)
        url = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=duration,distance"
        if rows == cols:
            return url
        sources = ";".join(str(k) for k in range(len(rows)))
        destinations = ";".join(str(k) for k in range(len(rows), len(indices)))
        return f"{url}&sources={sources}&destinations={destinations}"

    async def _get(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            response = await client.get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise MatrixError(f"OSRM at {self.base_url} failed: {type(exc).__name__} {exc}") from exc
        body = _json(response)
        if response.is_error or body.get("code") != "Ok":
            code = " ".join(str(part) for part in (response.status_code, body.get("code", "")) if part)
            raise MatrixError(f"OSRM table: HTTP {code}: {body.get('message') or response.text[:200]}")
        return body

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self.client is not None:
            yield self.client
            return
        async with httpx.AsyncClient() as client:
            yield client


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _values(body: dict[str, Any], key: str, shape: tuple[int, int]) -> FloatMatrix:
    values = np.array(body.get(key, []), dtype=np.float64)
    if values.shape != shape:
        raise MatrixError(f"OSRM table: expected {key} of shape {shape}, got {values.shape}")
    return values
