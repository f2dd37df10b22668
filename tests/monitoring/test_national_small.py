"""The national-day benchmark's pipeline, small: correctness only (the speed is the benchmark's)."""
from __future__ import annotations

import json

from benchmarks import national_day


def test_a_small_national_slice_is_stored_whole_and_evaluated(tmp_path):
    fixes = national_day.write_day(tmp_path / "d.jsonl", 40, minutes=180)
    national_day.build_store(tmp_path / "s.db", 40).close()
    got = national_day._child(tmp_path / "s.db", tmp_path / "d.jsonl", 180)
    lines = sum(1 for _ in open(tmp_path / "d.jsonl"))
    assert (got["positions"], got["events"], got["rejected"]) == (fixes, lines, 0)
    assert got["periods"] == 40                       # every wearer's period evaluated once
    assert got["incidents"] == 0                      # quiet wearers, and the clock where the data ends
    assert got["rss_mb"] > 0
    rate, rows = national_day.raw_rate(tmp_path / "d.jsonl", tmp_path / "raw.db")
    assert rows == lines and rate > 0
    json.dumps(got)
