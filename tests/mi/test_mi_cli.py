"""`emdesk mi` through ``emdesk.cli.main``: text, --json, the filters and bad input."""
from __future__ import annotations

import json

import pytest

from emdesk.cli import main

from .world import NW


@pytest.fixture
def db(world, monkeypatch):
    store, _ = world
    monkeypatch.setenv("EMDESK_NOW", "2026-11-26T09:00:00Z")
    return str(store.path)


def test_text_prints_a_line_a_figure_with_its_counts_and_tolerance(db, capsys):
    assert main(["mi", "--db", db, "--from", "2026-11-01", "--to", "2026-11-15"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 16
    assert "Share of active orders unmonitored: 40.0% (2/5)  tolerance 15% OVER TOLERANCE" in lines
    assert "Visits outstanding more than 3 days: 2 (2/2)  tolerance 400" in lines
    assert "Average time from breach to pack issued: 25.3 hours (76/3)" in lines
    assert "Alerts per breach pack issued: 1.67 (5/3)" in lines


def test_json_is_a_list_of_figures_in_a_stable_shape(db, capsys):
    assert main(["mi", "--db", db, "--from", "2026-11-01", "--to", "2026-11-15", "--region", NW, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert all(list(f) == ["key", "label", "value", "unit", "numerator", "denominator", "tolerance", "beyond",
                           "note", "cases"] for f in figures)
    share = next(f for f in figures if f["key"] == "unmonitored_share")
    assert (share["value"], share["numerator"], share["denominator"], share["tolerance"], share["beyond"],
            share["cases"]) == (0.5, 2, 4, 0.15, True, 2)


def test_an_unknown_region_is_figures_over_nothing_and_a_note(db, capsys):
    assert main(["mi", "--db", db, "--region", "Atlantis", "--json"]) == 0
    out = capsys.readouterr()
    assert all(f["cases"] == 0 for f in json.loads(out.out))
    assert "no orders in region 'Atlantis'" in out.err and "North West, Wales" in out.err


@pytest.mark.parametrize("argv, message", [
    (["--from", "2026-13-01"], "--from: '2026-13-01' is not a date like 2026-12-03 (YYYY-MM-DD)"),
    (["--to", "yesterday"], "--to: 'yesterday' is not a date"),
    (["--from", "2026-11-15", "--to", "2026-11-01"], "--from: 2026-11-15 is after --to 2026-11-01"),
    (["--from", "2026-12-25"], "--from: 2026-12-25 is after today"),
])
def test_bad_dates_exit_2_naming_the_flag(db, capsys, argv, message):
    assert main(["mi", "--db", db, *argv]) == 2
    assert message in capsys.readouterr().err
