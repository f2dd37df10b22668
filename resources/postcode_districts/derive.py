"""Derive emdesk/domain/data/postcode_districts.csv from OS Code-Point Open.

Run once by hand when Code-Point Open is refreshed (it is not run at install or at run
time):

    python resources/postcode_districts/derive.py PATH/TO/codepo_gb.zip

Code-Point Open gives every postcode unit in Great Britain a grid position.  A district
(outward code) is placed at the unit nearest the mean position of its units: nearer the
middle than any single unit, and always a real postcode, so a district wrapped round an
estuary is never placed in the water.  Units without a position (quality 90) are left
out; only units in England or Wales count, and the countries a district's units lie in
are kept ("E", "W", "EW", "ES"...) so that a district straddling the Scottish border can
be told apart.
"""
from __future__ import annotations

import csv
import io
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

from pyproj import Transformer

COUNTRY = {"E92000001": "E", "W92000004": "W", "S92000003": "S"}
OUT = Path(__file__).resolve().parents[2] / "emdesk" / "domain" / "data" / "postcode_districts.csv"


def main(zip_path: str) -> None:
    units: dict[str, list[tuple[int, int]]] = defaultdict(list)
    countries: dict[str, set[str]] = defaultdict(set)
    with zipfile.ZipFile(zip_path) as archive:
        version = archive.read("Doc/metadata.txt").decode("latin-1")
        for name in sorted(archive.namelist()):
            if not (name.startswith("Data/CSV/") and name.endswith(".csv")):
                continue
            for row in csv.reader(io.TextIOWrapper(archive.open(name), encoding="latin-1")):
                postcode, quality, easting, northing, country = row[:5]
                district = postcode[:-3].strip()
                countries[district].add(COUNTRY.get(country, "?"))
                if quality != "90" and COUNTRY.get(country) in ("E", "W"):
                    units[district].append((int(easting), int(northing)))
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    rows = []
    for district, points in units.items():
        mean_e = sum(e for e, _ in points) / len(points)
        mean_n = sum(n for _, n in points) / len(points)
        e, n = min(points, key=lambda p: (p[0] - mean_e) ** 2 + (p[1] - mean_n) ** 2)
        lon, lat = to_wgs84.transform(e, n)
        rows.append((district, f"{lat:.4f}", f"{lon:.4f}", "".join(sorted(countries[district])), len(points)))
    rows.sort(key=_sort_key)
    with OUT.open("w", newline="", encoding="ascii") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("district", "lat", "lon", "countries", "units"))
        writer.writerows(rows)
    print(f"{len(rows)} districts written to {OUT}")
    print(version)


def _sort_key(row: tuple) -> tuple:
    district = row[0]
    area = district.rstrip("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") or district
    i = len(district) - len(district.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    digits = "".join(c for c in district[i:] if c.isdigit())
    return district[:i], int(digits or 0), district


if __name__ == "__main__":
    main(sys.argv[1])
