"""emdesk's NMEA fixes match gpsd's on gpsd's own regression captures.

Every ``X.log`` in the capture directory comes with ``X.log.chk``: gpsd's output for
it, the input sentences echoed and interleaved with JSON reports.  The required set is
gpsd's TPV reports with mode 2 or 3 that carry time, lat and lon.  gpsd may report one
epoch several times while it learns the receiver's reporting cycle (or when an untimed
sentence follows the cycle ender), so consecutive reports with the same time are one
epoch and the last of them is the epoch's fix.  emdesk must produce exactly that
sequence: same times, same modes, positions within 1e-6 degrees, nothing extra.

The captures are in the repository (``tests/data/gpsd-nmea``, BSD-2-Clause, with gpsd's
COPYING), or at ``$EMDESK_GPSD_DATA``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from emdesk.devices.nmea import decode_file, fix_to_json

TOLERANCE_DEG = 1e-6


def _data_dir() -> Path:
    env = os.environ.get("EMDESK_GPSD_DATA")
    if env:
        return Path(env)
    return Path(__file__).parents[1] / "data" / "gpsd-nmea"     # in the repository, with its COPYING


DATA = _data_dir()


def _captures() -> list:
    return [pytest.param(path, id=path.name) for path in sorted(DATA.glob("*.log"))]


def gpsd_epochs(chk: Path) -> list[tuple[str, float, float, int]]:
    """gpsd's TPVs with mode 2/3, time, lat and lon; one per run of equal times."""
    epochs: list[tuple[str, float, float, int]] = []
    for line in chk.read_text(encoding="latin-1").splitlines():
        if not line.startswith("{"):
            continue
        report = json.loads(line)
        if report.get("class") != "TPV" or report.get("mode") not in (2, 3):
            continue
        if "time" not in report or "lat" not in report or "lon" not in report:
            continue
        epoch = (report["time"], report["lat"], report["lon"], report["mode"])
        if epochs and epochs[-1][0] == epoch[0]:
            epochs[-1] = epoch
        else:
            epochs.append(epoch)
    return epochs


def _same(expected: tuple, got: tuple) -> bool:
    return (expected[0] == got[0] and expected[3] == got[3]
            and abs(expected[1] - got[1]) <= TOLERANCE_DEG
            and abs(expected[2] - got[2]) <= TOLERANCE_DEG)


def test_capture_directory_is_populated():
    logs = sorted(DATA.glob("*.log"))
    assert logs, f"no *.log captures in {DATA}"
    missing = [p.name for p in logs if not p.with_name(p.name + ".chk").is_file()]
    assert not missing, f"captures without gpsd's .chk: {missing}"


@pytest.mark.parametrize("capture", _captures())
def test_fixes_match_gpsd(capture: Path):
    expected = gpsd_epochs(capture.with_name(capture.name + ".chk"))
    result = decode_file(capture)
    got = []
    for fix in result.fixes:
        j = fix_to_json(fix)
        got.append((j["time"], j["lat"], j["lon"], j["mode"]))

    for i, (want, have) in enumerate(zip(expected, got)):
        assert _same(want, have), (
            f"{capture.name}: epoch {i} differs: gpsd {want}, emdesk {have}")
    assert len(got) == len(expected), (
        f"{capture.name}: gpsd has {len(expected)} fix epochs, emdesk {len(got)}; "
        f"first unmatched: gpsd {expected[len(got):len(got) + 1]}, "
        f"emdesk {got[len(expected):len(expected) + 1]}")
    assert result.sentence_count > 0 or not expected
