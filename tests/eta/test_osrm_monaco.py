"""Acceptance: embedded OSRM on the real Monaco extract, independent of any plan.

Road data © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright).
"""

import asyncio
import json
import os
from pathlib import Path

import numpy as np
import pytest

from eta import osrm_embedded
from eta.geo import LatLon
from eta.matrix import HaversineMatrix, Matrix, MatrixError
from eta.osrm_embedded import EmbeddedOsrmMatrix, graph_path
from tests.shared_data import require_shared

ADDRESSES = Path(__file__).parents[1] / "fixtures" / "monaco_addresses.json"


def load_addresses() -> dict[str, object]:
    doc: dict[str, object] = json.loads(ADDRESSES.read_text(encoding="utf-8"))
    return doc


def monaco_points() -> list[LatLon]:
    rows = load_addresses()["addresses"]
    assert isinstance(rows, list)
    return [LatLon(row["lat"], row["lon"]) for row in rows]


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("osrm-cache")


@pytest.fixture
def monaco_pbf() -> Path:
    return require_shared("osm", "monaco.osm.pbf")


@pytest.fixture
def monaco(monaco_pbf: Path, graph_cache: Path) -> EmbeddedOsrmMatrix:
    return EmbeddedOsrmMatrix(monaco_pbf, graph_cache)


@pytest.fixture
async def road(monaco: EmbeddedOsrmMatrix) -> Matrix:
    return await monaco.table(monaco_points())


def cache_entries(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir())


def off_diagonal(values: np.typing.NDArray[np.uint32]) -> np.typing.NDArray[np.float64]:
    return values[~np.eye(len(values), dtype=bool)].astype(np.float64)


def test_fixture_credits_openstreetmap() -> None:
    doc = load_addresses()

    assert "© OpenStreetMap contributors" in str(doc["attribution"])
    assert len(monaco_points()) == 30


async def test_addresses_snap_to_roads_within_100_m(monaco: EmbeddedOsrmMatrix) -> None:
    snapped = await monaco.snap_distances(monaco_points())

    assert max(snapped) < 100


def test_road_matrix_shape(road: Matrix) -> None:
    assert road.durations.dtype == road.distances.dtype == np.uint32
    assert road.size == 30
    assert not road.durations.diagonal().any()
    assert off_diagonal(road.durations).min() > 0
    assert not np.array_equal(road.durations, road.durations.T)  # one-way streets


async def test_road_distance_never_beats_the_crow(monaco: EmbeddedOsrmMatrix, road: Matrix) -> None:
    points = monaco_points()
    crow = HaversineMatrix(detour_factor=1.0).table_sync(points).distances.astype(np.float64)
    snap = np.array(await monaco.snap_distances(points))

    assert (road.distances + snap[:, None] + snap[None, :] + 1 >= crow).all()


def test_road_times_are_longer_than_straight_lines_at_speed(road: Matrix) -> None:
    straight = off_diagonal(HaversineMatrix(detour_factor=1.0).table_sync(monaco_points()).durations)
    times = off_diagonal(road.durations)

    assert times.mean() > straight.mean()
    assert (times > straight).mean() > 0.6


def test_road_times_match_default_haversine_in_magnitude(road: Matrix) -> None:
    estimate = off_diagonal(HaversineMatrix().table_sync(monaco_points()).durations)
    times = off_diagonal(road.durations)
    speed_kmh = off_diagonal(road.distances) / times * 3.6

    assert 0.5 < np.median(times) / np.median(estimate) < 10
    assert 10 < np.median(speed_kmh) < 80


async def test_cached_graph_is_reused(
    monaco: EmbeddedOsrmMatrix, monaco_pbf: Path, graph_cache: Path
) -> None:
    await monaco.prepare()
    folder = graph_path(monaco_pbf, graph_cache).parent
    built = folder.stat().st_ino

    await EmbeddedOsrmMatrix(monaco_pbf, graph_cache).prepare()

    assert folder.stat().st_ino == built
    assert cache_entries(graph_cache) == [folder.name]


def test_changed_pbf_gets_a_new_graph(monaco_pbf: Path, tmp_path: Path) -> None:
    copy = tmp_path / "monaco.osm.pbf"
    copy.write_bytes(monaco_pbf.read_bytes())
    before = graph_path(copy, tmp_path)

    os.utime(copy, ns=(0, copy.stat().st_mtime_ns + 1_000_000_000))

    assert graph_path(copy, tmp_path) != before
    assert before.name == "graph.osrm"
    assert before.parent.name.startswith("monaco-1759101-")


async def test_concurrent_first_calls_build_once(
    monaco_pbf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[Path] = []
    real_build = osrm_embedded.build_graph

    def counting_build(pbf: Path, target: Path) -> None:
        builds.append(target)
        real_build(pbf, target)

    monkeypatch.setattr(osrm_embedded, "build_graph", counting_build)
    provider = EmbeddedOsrmMatrix(monaco_pbf, tmp_path)

    first, second = await asyncio.gather(provider.table(monaco_points()), provider.table(monaco_points()))

    assert len(builds) == 1
    assert np.array_equal(first.durations, second.durations)


async def test_failed_build_leaves_no_half_cache(tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protobuf")
    cache = tmp_path / "cache"

    with pytest.raises(MatrixError, match="osrm-extract failed"):
        await EmbeddedOsrmMatrix(broken, cache).prepare()

    assert cache_entries(cache) == []


async def test_missing_pbf_is_a_matrix_error(tmp_path: Path) -> None:
    provider = EmbeddedOsrmMatrix(tmp_path / "nowhere.osm.pbf", tmp_path)

    with pytest.raises(MatrixError, match=r"nowhere\.osm\.pbf not found"):
        await provider.table(monaco_points())
