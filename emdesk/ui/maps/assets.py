"""The map's third-party web files (Leaflet and what folium's pages load), and the breach
pack PDF's font (DejaVu Sans, see emdesk/services/fonts.py), installed offline.

They are fetched once, at install time, from the npm registry as the packages'
tarballs, pinned by version and by the registry's sha512 integrity, and unpacked
with each package's folder layout (so relative font and image URLs resolve).  They
are never committed and never loaded from a CDN at run time: a laptop at a door has
no network, and a page that reaches out would leak where the officer is.

    python -m emdesk.ui.maps.assets fetch     # download what is missing (idempotent)
    python -m emdesk.ui.maps.assets check     # exit 0 if all present, 1 if not
    python -m emdesk.ui.maps.assets where     # print the folder

The folder is ``$EMDESK_WEB_ASSETS`` if set, else ``<venv>/share/emdesk/web`` inside a
virtualenv, else ``web`` in the user's data directory.  This module has no Qt in it.
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emdesk.paths import web_assets_dir
from emdesk.services import fonts

REGISTRY = "https://registry.npmjs.org"
MARKER = ".emdesk-integrity"      # written last: a folder without it is incomplete


@dataclass(frozen=True)
class Package:
    name: str            # npm name, scoped names included
    version: str
    integrity: str       # the registry's dist.integrity for this version (sha512-...)

    @property
    def folder(self) -> str:
        return f"{self.name.replace('/', '+')}@{self.version}"

    @property
    def tarball(self) -> str:
        base = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{base}-{self.version}.tgz"


# Versions folium 0.20's pages were made with; integrity from `npm view NAME@V dist.integrity`.
PACKAGES = (
    Package("leaflet", "1.9.3",
            "sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ=="),
    Package("jquery", "3.7.1",
            "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="),
    Package("bootstrap", "5.2.2",
            "sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ=="),
    Package("@fortawesome/fontawesome-free", "6.2.0",
            "sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ=="),
    Package("leaflet.awesome-markers", "2.0.5",
            "sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA=="),
    Package("leaflet.markercluster", "1.1.0",
            "sha512-eI+XkCiLiHwCC3uZ4/n4+Vq3rXcqEHN2lhHRVG1WVziy/3Q0TTipWkzEa1zO0dKZI2AnI5ppFDWrOjnQ7MJLKQ=="),
)
# Not the map's: the breach pack PDF's font.  Kept apart so a missing font never hides a map.
FONT_PACKAGES = (Package(*fonts.DEJAVU),)
_BY_NAME = {p.name: p for p in (*PACKAGES, *FONT_PACKAGES)}


class AssetError(RuntimeError):
    pass


def asset_dir() -> Path:
    return web_assets_dir()


FETCH_COMMAND = "python -m emdesk.ui.maps.assets fetch"


def package_dir(name: str, root: Path | None = None) -> Path:
    return (root or asset_dir()) / _BY_NAME[name].folder


def file_path(name: str, relative: str, root: Path | None = None) -> Path:
    """A file inside an installed package, e.g. ``("leaflet", "dist/leaflet.js")``."""
    return package_dir(name, root) / relative


def installed(package: Package, root: Path | None = None) -> bool:
    marker = (root or asset_dir()) / package.folder / MARKER
    try:
        return marker.read_text().strip() == package.integrity
    except OSError:
        return False


def missing(root: Path | None = None) -> list[Package]:
    return [p for p in PACKAGES if not installed(p, root)]


def verify(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"unsupported integrity {integrity[:16]}…: the manifest must pin sha512")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise AssetError(f"integrity mismatch: expected sha512-{expected[:16]}…, got sha512-{actual[:16]}…; "
                         "the download is corrupt or the registry served a different file; nothing was installed")


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "emdesk-assets"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def unpack(package: Package, data: bytes, root: Path) -> Path:
    """Verify and unpack a tarball into ``root/<folder>``, all or nothing."""
    verify(data, package.integrity)
    root.mkdir(parents=True, exist_ok=True)
    final = root / package.folder
    staging = Path(tempfile.mkdtemp(prefix=f".{package.folder}.", dir=root))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = []
            for m in tar.getmembers():
                # npm tarballs hold one top folder ("package/" for most); drop it.
                parts = Path(m.name).parts
                if len(parts) < 2 or not (m.isfile() or m.isdir()):
                    continue
                m.name = str(Path(*parts[1:]))
                members.append(m)
            tar.extractall(staging, members=members, filter="data")
        (staging / MARKER).write_text(package.integrity + "\n")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


def fetch(root: Path | None = None, *, timeout: float = 60.0, log=print,
          download=_download, packages: tuple[Package, ...] | None = None) -> list[Package]:
    """Install every package (default: the map's) that is missing or different; returns those fetched."""
    root = root or asset_dir()
    fetched = []
    for package in PACKAGES if packages is None else packages:
        if installed(package, root):
            continue
        log(f"fetching {package.name}@{package.version}")
        try:
            data = download(package.tarball, timeout)
        except OSError as exc:
            raise AssetError(f"could not download {package.tarball}: {exc}; check the network "
                             f"(the npm registry must be reachable) and run `{FETCH_COMMAND}` again") from exc
        unpack(package, data, root)
        fetched.append(package)
    return fetched


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "fetch"
    root = asset_dir()
    if command == "where":
        print(root)
        return 0
    if command == "check":
        gone = missing(root) + [p for p in FONT_PACKAGES if not installed(p, root)]
        for p in gone:
            print(f"missing: {p.name}@{p.version}", file=sys.stderr)
        return 1 if gone else 0
    if command == "fetch":
        try:
            fetched = fetch(root) + fetch(root, packages=FONT_PACKAGES)
        except AssetError as exc:
            print(f"map assets: {exc}", file=sys.stderr)
            return 1
        total = len(PACKAGES) + len(FONT_PACKAGES)
        print(f"map assets: {len(fetched)} fetched, {total - len(fetched)} already present, in {root}")
        return 0
    print("usage: python -m emdesk.ui.maps.assets fetch|check|where", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
