"""Pick the travel-time provider named by ``DOORSTEP_ETA__MATRIX``."""

import httpx

from bot.config import EtaSettings
from eta.matrix import HaversineMatrix, MatrixProvider
from eta.osrm_embedded import EmbeddedOsrmMatrix
from eta.osrm_http import OsrmHttpMatrix


def build_matrix_provider(settings: EtaSettings, http: httpx.AsyncClient | None = None) -> MatrixProvider:
    """The configured provider; ``http`` is the shared client for an OSRM server, if any."""
    match settings.matrix:
        case "haversine":
            return HaversineMatrix(detour_factor=settings.detour_factor, speed_kmh=settings.speed_kmh)
        case "osrm":
            if settings.osm_pbf is None:
                raise ValueError(
                    "DOORSTEP_ETA__MATRIX=osrm needs DOORSTEP_ETA__OSM_PBF, the path of an .osm.pbf extract"
                )
            return EmbeddedOsrmMatrix(settings.osm_pbf, settings.osrm_cache_dir)
        case "osrm_http":
            return OsrmHttpMatrix(settings.osrm_url, settings.osrm_profile, client=http)
