"""Travel-time matrices: one small port, three providers chosen by config.

- ``haversine``: great-circle distance x detour factor / speed. Needs nothing.
- ``osrm``: real roads from an .osm.pbf with the embedded OSRM of ``osrm-bindings``
  (see ``eta/osrm_embedded.py``).
- ``osrm_http``: the ``table`` service of an OSRM server the operator already runs
  (see ``eta/osrm_http.py``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from eta.geo import EARTH_RADIUS_M, LatLon

type IntMatrix = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class Matrix:
    """Square matrices over the same points: travel seconds and metres."""

    durations: IntMatrix
    distances: IntMatrix

    @property
    def size(self) -> int:
        return int(self.durations.shape[0])


class MatrixProvider(Protocol):
    """Port: travel durations (s) and distances (m) between every pair of points."""

    @property
    def name(self) -> str: ...

    async def table(self, points: Sequence[LatLon]) -> Matrix: ...


class MatrixError(RuntimeError):
    """The provider could not produce a matrix (unreachable server, bad graph, ...)."""


@dataclass(frozen=True)
class HaversineMatrix:
    """Straight-line distance x detour factor, driven at a constant speed."""

    detour_factor: float = 1.3
    speed_kmh: float = 25.0
    name: str = "haversine"

    async def table(self, points: Sequence[LatLon]) -> Matrix:
        return self.table_sync(points)

    def table_sync(self, points: Sequence[LatLon]) -> Matrix:
        lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
        lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.detour_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return Matrix(
            durations=np.rint(seconds).astype(np.uint32), distances=np.rint(metres).astype(np.uint32)
        )
