from pathlib import Path

import httpx
import pytest

from bot.config import EtaSettings
from eta.matrix import HaversineMatrix
from eta.matrix_factory import build_matrix_provider
from eta.osrm_embedded import EmbeddedOsrmMatrix
from eta.osrm_http import OsrmHttpMatrix


def test_haversine_takes_detour_and_speed() -> None:
    provider = build_matrix_provider(EtaSettings(detour_factor=1.5, speed_kmh=40))

    assert provider == HaversineMatrix(detour_factor=1.5, speed_kmh=40)


def test_osrm_needs_a_pbf() -> None:
    with pytest.raises(ValueError, match="DOORSTEP_ETA__OSM_PBF"):
        build_matrix_provider(EtaSettings(matrix="osrm"))


def test_osrm_builds_into_the_cache_dir(tmp_path: Path) -> None:
    settings = EtaSettings(matrix="osrm", osm_pbf=tmp_path / "a.osm.pbf", osrm_cache_dir=tmp_path / "c")

    provider = build_matrix_provider(settings)

    assert isinstance(provider, EmbeddedOsrmMatrix)
    assert (provider.pbf, provider.cache_dir) == (tmp_path / "a.osm.pbf", tmp_path / "c")


async def test_osrm_http_uses_the_shared_client() -> None:
    settings = EtaSettings(matrix="osrm_http", osrm_url="http://osrm:5000", osrm_profile="car")
    async with httpx.AsyncClient() as client:
        provider = build_matrix_provider(settings, http=client)

    assert provider == OsrmHttpMatrix("http://osrm:5000", "car", client=client)
