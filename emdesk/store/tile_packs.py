"""Offline map tiles from a pack on disk: MBTiles (SQLite) or PMTiles (one file, read with
the ``pmtiles`` package).

A pack answers ``tile(z, x, y)`` in the XYZ scheme web maps use; MBTiles stores rows in
TMS order (y counted from the south), so its y is flipped here.  Packs are opened read
only and never written.
"""
from __future__ import annotations

import gzip
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
         "pbf": "application/x-protobuf", "mvt": "application/x-protobuf", "avif": "image/avif"}


class TilePackError(ValueError):
    """The pack cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class PackInfo:
    format: str              # "png", "jpg", "webp", "pbf"
    min_zoom: int
    max_zoom: int
    attribution: str

    @property
    def mime(self) -> str:
        return _MIME.get(self.format, "application/octet-stream")

    @property
    def raster(self) -> bool:
        return self.format in ("png", "jpg", "jpeg", "webp", "avif")


class TilePack(Protocol):
    path: Path
    info: PackInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


class MBTilesPack:
    def __init__(self, path: Path):
        self.path = path
        try:
            # Read only, shared by the GUI thread's tile requests; a lock keeps them in turn.
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        except sqlite3.Error as exc:
            raise TilePackError(f"{path}: not a readable MBTiles file ({exc}); check EMDESK_MAP_TILE_PACK") from None
        self._lock = threading.Lock()
        self.info = PackInfo(format=(meta.get("format") or "png").lower(),
                             min_zoom=int(meta.get("minzoom", zooms[0] if zooms[0] is not None else 0)),
                             max_zoom=int(meta.get("maxzoom", zooms[1] if zooms[1] is not None else 0)),
                             attribution=meta.get("attribution", ""))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                                   [z, x, (1 << z) - 1 - y]).fetchone()
        return None if row is None else _inflate(bytes(row[0]))

    def close(self) -> None:
        self._db.close()


class PMTilesPack:
    def __init__(self, path: Path):
        from pmtiles.reader import MmapSource, Reader
        from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

        self.path = path
        try:
            self._file = open(path, "rb")
            self._reader = Reader(MmapSource(self._file))
            header = self._reader.header()
            metadata = self._reader.metadata()
        except (OSError, ValueError, KeyError, MagicNumberNotFound, SpecVersionUnsupported) as exc:
            raise TilePackError(f"{path}: not a readable PMTiles file ({type(exc).__name__}); check EMDESK_MAP_TILE_PACK") from None
        self._gzip = header.get("tile_compression") == Compression.GZIP
        kind = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.MVT: "pbf",
                TileType.AVIF: "avif"}.get(header.get("tile_type"), "png")
        self._lock = threading.Lock()
        self.info = PackInfo(format=kind, min_zoom=int(header.get("min_zoom", 0)), max_zoom=int(header.get("max_zoom", 0)),
                             attribution=str(metadata.get("attribution", "")) if isinstance(metadata, dict) else "")

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            data = self._reader.get(z, x, y)
        if data is None:
            return None
        return gzip.decompress(data) if self._gzip else data

    def close(self) -> None:
        self._file.close()


def _inflate(data: bytes) -> bytes:
    """Vector tiles in MBTiles are usually gzipped; the page wants them plain."""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def open_tile_pack(path: str | Path) -> TilePack:
    """The pack at ``path`` by its suffix (.mbtiles or .pmtiles)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise TilePackError(f"{path}: no such tile pack; set EMDESK_MAP_TILE_PACK to an .mbtiles or .pmtiles file")
    suffix = path.suffix.lower()
    if suffix == ".mbtiles":
        return MBTilesPack(path)
    if suffix == ".pmtiles":
        return PMTilesPack(path)
    raise TilePackError(f"{path}: unknown tile pack type {suffix or '(no suffix)'}; set EMDESK_MAP_TILE_PACK to an .mbtiles or .pmtiles file")


__all__ = ["MBTilesPack", "PMTilesPack", "PackInfo", "TilePack", "TilePackError", "open_tile_pack"]
