"""Road travel times from an .osm.pbf with the OSRM engine embedded by ``osrm-bindings``.

The first use builds a contraction-hierarchy graph with the package's own ``osrm-extract`` and
``osrm-contract`` and its ``car.lua`` profile, into ``cache_dir/<pbf name>-<size>-<mtime>-osrm<version>``.
The build runs in a temporary sibling folder that is renamed into place, so a crash never leaves a
half-built graph behind, and a changed pbf or OSRM release gets a new folder.
"""

import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import osrm

from eta.geo import LatLon
from eta.matrix import Matrix, MatrixError
from eta.osrm_http import FloatMatrix, to_uint32, zero_matrix

OSRM_VERSION = version("osrm-bindings")
CAR_PROFILE = Path(osrm.__file__).parent / "share" / "profiles" / "car.lua"
GRAPH_NAME = "graph.osrm"


class EmbeddedOsrmMatrix:
    """Port adapter: OSRM in-process on a graph built once from an .osm.pbf; OSRM snaps points to roads.

    Unreachable pairs (OSRM's null) raise MatrixError naming the point indices: a stop no car can
    reach needs a person to look at its address, not a made-up travel time.
    """

    name: str = "osrm"

    def __init__(self, pbf: Path, cache_dir: Path) -> None:
        self.pbf = pbf
        self.cache_dir = cache_dir
        self._engine: Any = None
        self._lock = asyncio.Lock()

    async def prepare(self) -> None:
        """Build or load the graph now (e.g. at start-up) rather than on the first table."""
        await self._ready()

    async def table(self, points: Sequence[LatLon]) -> Matrix:
        if len(points) < 2:
            return zero_matrix(len(points))
        engine = await self._ready()
        return await asyncio.to_thread(_table, engine, points)

    async def snap_distances(self, points: Sequence[LatLon]) -> list[float]:
        """Metres from each point to the road OSRM snaps it to (a large value flags a bad geocode)."""
        engine = await self._ready()
        return await asyncio.to_thread(_snap_distances, engine, points)

    async def _ready(self) -> Any:
        async with self._lock:
            if self._engine is None:
                self._engine = await asyncio.to_thread(load_engine, self.pbf, self.cache_dir)
        return self._engine


def graph_path(pbf: Path, cache_dir: Path) -> Path:
    """Where the graph of this pbf lives: keyed by its name, size and mtime and by the OSRM version."""
    if ".osrm" in str(cache_dir.resolve()):
        # OSRM finds its files by cutting the path at the first ".osrm", wherever it is.
        raise MatrixError(
            f"OSRM cannot keep a graph under {cache_dir} ('.osrm' in its path): use another folder"
        )
    stat = pbf.stat()
    stem = pbf.name.removesuffix(".pbf").removesuffix(".osm")
    return cache_dir / f"{stem}-{stat.st_size}-{stat.st_mtime_ns}-osrm{OSRM_VERSION}" / GRAPH_NAME


def load_engine(pbf: Path, cache_dir: Path) -> Any:
    """Build the graph of ``pbf`` unless cached, then open it with OSRM (blocking)."""
    if not pbf.is_file():
        raise MatrixError(f"OSM extract {pbf} not found: set DOORSTEP_ETA__OSM_PBF to an .osm.pbf file")
    graph = graph_path(pbf, cache_dir)
    if not graph.parent.is_dir():
        build_graph(pbf, graph.parent)
    try:
        # The keyword constructor defaults to shared memory (osrm-datastore); we load the files.
        return osrm.OSRM(algorithm="CH", storage_config=str(graph), use_shared_memory=False)
    except RuntimeError as exc:
        raise MatrixError(f"OSRM could not load {graph} ({exc}); delete that folder to rebuild") from exc


def build_graph(pbf: Path, target: Path) -> None:
    """Extract and contract ``pbf`` into the folder ``target``, which appears complete or not at all."""
    target = target.resolve()  # the tools run inside the work folder: relative paths would nest
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _run("extract", "-p", str(CAR_PROFILE), "-o", str(work / GRAPH_NAME), str(pbf.resolve()), cwd=work)
        _run("contract", str(work / GRAPH_NAME), cwd=work)
        _publish(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _publish(work: Path, target: Path) -> None:
    try:
        work.rename(target)
    except OSError:
        if not target.is_dir():  # else another process published the same graph first
            raise


def _run(tool: str, *args: str, cwd: Path) -> None:
    command = [sys.executable, "-m", "osrm", tool, *args]
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = " | ".join(done.stdout.decode(errors="replace").strip().splitlines()[-3:])
        raise MatrixError(f"osrm-{tool} failed with exit code {done.returncode}: {tail}")


def _table(engine: Any, points: Sequence[LatLon]) -> Matrix:
    params = osrm.TableParameters(
        coordinates=[(p.lon, p.lat) for p in points],
        annotations=["duration", "distance"],
        generate_hints=False,
    )
    params.skip_waypoints = True
    try:
        result = engine.Table(params)
    except RuntimeError as exc:
        raise MatrixError(f"OSRM table of {len(points)} points failed: {exc}") from exc
    return Matrix(
        durations=to_uint32(_floats(result["durations"]), "duration"),
        distances=to_uint32(_floats(result["distances"]), "distance"),
    )


def _floats(rows: Any) -> FloatMatrix:
    # Row lists first: np.array() straight on osrm.Array is ~3x slower. Nulls arrive as None -> NaN.
    return np.array([list(row) for row in rows], dtype=np.float64)


def _snap_distances(engine: Any, points: Sequence[LatLon]) -> list[float]:
    nearest = (engine.Nearest(osrm.NearestParameters(coordinates=[(p.lon, p.lat)])) for p in points)
    return [float(result["waypoints"][0]["distance"]) for result in nearest]
