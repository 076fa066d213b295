"""The street map of the recipient's page: vector tiles from the operator's OpenStreetMap extract.

Debian's tilemaker turns the extract into an .mbtiles file with this folder's `config.json` and
`process.lua` (streets with their class and name, buildings, water, green areas, coastline, railways;
no points of interest); the PyPI pmtiles tools turn that into one .pmtiles file, which Doorstep serves
with HTTP Range requests (bot/web/track.py) and MapLibre GL JS reads with the pmtiles protocol. Nothing
is fetched from anyone else.

As the OSRM graph (eta/osrm_embedded.py): built on first use, in a thread, into
`cache_dir/<extract name>-<size>-<mtime>-<recipe>`, where the recipe is a hash of the config, the Lua
and tilemaker's version; the build runs in a temporary sibling folder renamed into place, so a crash
never leaves half a map, and a changed extract or recipe gets a new folder. Without an extract, or
without tilemaker, there is no map and the page works without one (the reason is logged once).
"""

import asyncio
import contextlib
import gzip
import hashlib
import json
import logging
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from pmtiles.convert import mbtiles_to_header_json
from pmtiles.tile import zxy_to_tileid
from pmtiles.writer import write

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CONFIG, PROCESS = HERE / "config.json", HERE / "process.lua"
MAX_ZOOM = 14  # as config.json: the map draws closer zooms from these tiles (mbtiles' zoom in its header)
TILES_NAME = "map.pmtiles"


class TilesError(RuntimeError):
    """The map could not be built (no tilemaker, a bad extract); the message says why."""


def tilemaker_version() -> str:
    tool = shutil.which("tilemaker")
    if tool is None:
        raise TilesError("tilemaker not found: `apt-get install tilemaker` (./dev does it when run as root)")
    done = subprocess.run([tool, "--help"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"


def tiles_path(pbf: Path, cache_dir: Path) -> Path:
    """Where the map of this extract lives: keyed by the extract's name, size and mtime, and the recipe."""
    stat = pbf.stat()
    recipe = hashlib.sha256(CONFIG.read_bytes() + PROCESS.read_bytes() + tilemaker_version().encode())
    stem = pbf.name.removesuffix(".pbf").removesuffix(".osm")
    return cache_dir / f"{stem}-{stat.st_size}-{stat.st_mtime_ns}-{recipe.hexdigest()[:12]}" / TILES_NAME


def build(pbf: Path, target: Path) -> None:
    """tilemaker, then pmtiles, into the folder `target`, which appears complete or not at all."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        command = [
            "tilemaker",
            "--input",
            str(pbf.resolve()),
            "--output",
            str(work / "map.mbtiles"),
            "--config",
            str(CONFIG),
            "--process",
            str(PROCESS),
        ]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise TilesError(f"tilemaker failed with exit code {done.returncode}: {tail}")
        to_pmtiles(work / "map.mbtiles", work / TILES_NAME, pbf)
        (work / "map.mbtiles").unlink()
        try:
            work.rename(target)
        except OSError:
            if not target.is_dir():  # else another process published the same map first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def to_pmtiles(mbtiles: Path, target: Path, pbf: Path) -> None:
    """tilemaker's .mbtiles as one .pmtiles file, its layers listed in the metadata as the PMTiles spec
    has them (pmtiles' own converter would keep them as a string under "json"). TilesError: no tiles
    (tilemaker accepts a file that is no extract and draws nothing)."""
    with contextlib.closing(sqlite3.connect(mbtiles)) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        found = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
        if not found:
            raise TilesError(f"tilemaker drew nothing from {pbf}: is it an OpenStreetMap extract?")
        ids = sorted((zxy_to_tileid(z, x, (1 << z) - 1 - row), (z, x, row)) for z, x, row in found)
        header, _ = mbtiles_to_header_json(meta)
        layers = json.loads(meta.pop("json", "{}")).get("vector_layers", [])
        with write(str(target)) as writer:
            for tile_id, (z, x, row) in ids:
                (data,) = db.execute(
                    "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                    (z, x, row),
                ).fetchone()
                writer.write_tile(tile_id, data if data[:2] == b"\x1f\x8b" else gzip.compress(data))
            writer.finalize(header, meta | {"vector_layers": layers})


def ready_or_build(pbf: Path, cache_dir: Path) -> Path:
    """The .pmtiles file of `pbf`, built first if needed (blocking)."""
    if not pbf.is_file():
        raise TilesError(f"OSM extract {pbf} not found")
    tiles = tiles_path(pbf, cache_dir)
    if not tiles.is_file():
        build(pbf, tiles.parent)
    return tiles


class Tiles:
    """This process's map: `file()` is the .pmtiles once built; the first call starts the build."""

    def __init__(self, pbf: Path | None, cache_dir: Path) -> None:
        self.pbf, self.cache_dir = pbf, cache_dir
        self._file: Path | None = None
        self._building: asyncio.Task[None] | None = None
        self.failed: str | None = None if pbf else "no OSM extract configured (DOORSTEP_WEB__MAP_PBF)"

    def file(self) -> Path | None:
        if self._file is None and self.failed is None and self._building is None:
            self._building = asyncio.get_running_loop().create_task(self._build(), name="map-tiles")
        return self._file

    async def wait(self) -> Path | None:
        """The map once its build has ended (None: there is none; `failed` says why)."""
        self.file()
        if self._building is not None:
            await asyncio.shield(self._building)
        return self._file

    async def _build(self) -> None:
        assert self.pbf is not None
        try:
            self._file = await asyncio.to_thread(ready_or_build, self.pbf, self.cache_dir)
        except Exception as error:  # the page goes on without a map
            self.failed = f"{type(error).__name__}: {error}"
            log.warning("the recipient's page has no map: %s", self.failed)
