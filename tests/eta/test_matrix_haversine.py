import numpy as np

from eta.geo import LatLon
from eta.matrix import HaversineMatrix

BERLIN = LatLon(52.5200, 13.4050)
POTSDAM = LatLon(52.3906, 13.0645)
POINTS = [BERLIN, POTSDAM, LatLon(52.4, 13.5), LatLon(0.0, 0.0), LatLon(1.0, 0.0)]


async def test_symmetric_with_zero_diagonal() -> None:
    matrix = await HaversineMatrix().table(POINTS)

    for values in (matrix.durations, matrix.distances):
        assert values.dtype == np.uint32
        assert values.shape == (5, 5)
        assert np.array_equal(values, values.T)
        assert not values.diagonal().any()


def test_berlin_potsdam_great_circle_within_one_percent() -> None:
    matrix = HaversineMatrix(detour_factor=1.0).table_sync([BERLIN, POTSDAM])

    assert abs(int(matrix.distances[0, 1]) - 27_200) < 272


def test_one_degree_of_latitude() -> None:
    matrix = HaversineMatrix(detour_factor=1.0).table_sync(POINTS)

    assert abs(int(matrix.distances[3, 4]) - 111_195) <= 1


def test_detour_factor_scales_distance() -> None:
    straight = HaversineMatrix(detour_factor=1.0).table_sync(POINTS).distances.astype(np.int64)
    winding = HaversineMatrix(detour_factor=1.5).table_sync(POINTS).distances.astype(np.int64)

    assert np.abs(winding - straight * 1.5).max() <= 1


def test_duration_is_distance_at_speed() -> None:
    matrix = HaversineMatrix(detour_factor=1.3, speed_kmh=36.0).table_sync(POINTS)

    metres_per_second = 10.0
    expected = matrix.distances.astype(np.float64) / metres_per_second
    assert np.abs(matrix.durations - expected).max() <= 1
