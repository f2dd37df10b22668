"""Tiny real tile packs for tests: PNG tiles drawn with Qt, in MBTiles and PMTiles files."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray
from PySide6.QtGui import QColor, QImage

ZOOMS = (0, 1, 2)


def colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    """Each tile its own colour, so a test can tell which one it was given (XYZ numbering)."""
    return 40 + 60 * x, 40 + 60 * y, 40 + 80 * z


def png(z: int, x: int, y: int) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(*colour(z, x, y)))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def tiles():
    for z in ZOOMS:
        for x in range(1 << z):
            for y in range(1 << z):
                yield z, x, y


def make_mbtiles(path: Path) -> Path:
    """MBTiles 1.3: metadata and tiles tables, rows in TMS order (y from the south)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png"), ("minzoom", "0"),
                                                          ("maxzoom", str(max(ZOOMS))), ("attribution", "Test tiles")])
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                   [(z, x, (1 << z) - 1 - y, png(z, x, y)) for z, x, y in tiles()])
    db.commit()
    db.close()
    return path


def make_pmtiles(path: Path) -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    with open(path, "wb") as f:
        writer = Writer(f)
        for tile_id, data in sorted((zxy_to_tileid(z, x, y), png(z, x, y)) for z, x, y in tiles()):
            writer.write_tile(tile_id, data)
        writer.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE, "min_zoom": 0,
                         "max_zoom": max(ZOOMS), "min_lon_e7": -1800000000, "min_lat_e7": -850000000,
                         "max_lon_e7": 1800000000, "max_lat_e7": 850000000, "center_zoom": 0,
                         "center_lon_e7": 0, "center_lat_e7": 0},
                        {"attribution": "Test tiles"})
    return path
