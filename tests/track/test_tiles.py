"""The street map's tiles (bot/tiles): built once from the extract with tilemaker and pmtiles, kept, never
half-built, served in byte ranges; and the page without a map when there is no extract or it is bad."""

from pathlib import Path

import httpx
import pytest
from pmtiles.reader import MmapSource, Reader

from bot import tiles
from bot.app import build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.web import state
from tests.conftest import API_KEY
from tests.shared_data import require_shared


@pytest.fixture
def tilemaker() -> None:
    try:
        tiles.tilemaker_version()
    except tiles.TilesError as missing:
        pytest.skip(str(missing))


def test_the_monaco_extract_becomes_one_pmtiles_file_built_once(
    tilemaker: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pbf = require_shared("osm", "monaco.osm.pbf")
    built = tiles.ready_or_build(pbf, tmp_path)
    assert built == tiles.tiles_path(pbf, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [built.parent.name]  # no work folder left behind
    with built.open("rb") as file:
        reader = Reader(MmapSource(file))
        header, metadata = reader.header(), reader.metadata()
    assert (header["min_zoom"], header["max_zoom"]) == (10, tiles.MAX_ZOOM)
    assert 7.40 < header["center_lon_e7"] / 1e7 < 7.45  # Monaco
    assert 43.72 < header["center_lat_e7"] / 1e7 < 43.76
    assert metadata["attribution"] == "© OpenStreetMap contributors"
    assert {layer["id"] for layer in metadata["vector_layers"]} >= {"road", "building", "water"}

    def never(*_: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(tiles, "build", never)
    assert tiles.ready_or_build(pbf, tmp_path) == built  # the second start reads what the first built


async def test_a_bad_extract_leaves_no_map_and_nothing_half_built(tilemaker: None, tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not an OpenStreetMap extract")
    kept = tmp_path / "cache"
    made = tiles.Tiles(bad, kept)
    assert await made.wait() is None
    assert made.failed is not None
    assert "tilemaker drew nothing" in made.failed
    assert list(kept.iterdir()) == []  # the work folder went with the failure


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={
            "api_key": API_KEY,
            "map_pbf": require_shared("osm", "monaco.osm.pbf"),
            "map_glyphs": require_shared("map-assets", "fonts"),
            "map_cache_dir": tmp_path / "tiles",
        },
        sandbox={"path": db_path.with_name("sandbox.db")},
        _env_file=None,
    )


async def test_the_map_is_served_in_byte_ranges_and_glyphs_only_from_their_folder(
    tilemaker: None, settings: Settings, clock: ManualClock
) -> None:
    app = await build_app(settings, clock)
    try:
        built = await state.of(app.web).tiles.wait()
        assert built is not None
        transport = httpx.ASGITransport(app=app.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
            part = await client.get("/map/streets.pmtiles", headers={"Range": "bytes=0-126"})
            assert part.status_code == 206
            assert part.content == built.read_bytes()[:127]  # the pmtiles header, as the map's first read
            assert part.headers["content-range"] == f"bytes 0-126/{built.stat().st_size}"

            glyphs = await client.get("/map/fonts/Noto Sans Regular/0-255.pbf")
            assert glyphs.status_code == 200
            fonts = require_shared("map-assets", "fonts")
            assert glyphs.content == (fonts / "Noto Sans Regular" / "0-255.pbf").read_bytes()
            for wrong in (
                "/map/fonts/..%2F..%2Fetc/passwd",
                "/map/fonts/Noto Sans Regular/OFL.txt",
                "/map/fonts/x/0-255.pbf",
            ):
                assert (await client.get(wrong)).status_code == 404, wrong
    finally:
        await app.services.close()


async def test_without_an_extract_there_is_no_map_to_serve(db_path: Path, clock: ManualClock) -> None:
    plain = Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        sandbox={"path": db_path.with_name("s.db")},
        _env_file=None,
    )
    app = await build_app(plain, clock)
    try:
        assert await state.of(app.web).tiles.wait() is None
        transport = httpx.ASGITransport(app=app.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
            assert (await client.get("/map/streets.pmtiles")).status_code == 404
            assert (await client.get("/map/fonts/Noto Sans Regular/0-255.pbf")).status_code == 404
    finally:
        await app.services.close()
