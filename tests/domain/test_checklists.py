"""Checklist templates as data: broken ones refused with the file and step named; the right
template for the kit; each step's state from the ticks, what blocks completion, where to resume."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.checklists import (
    ChecklistTick,
    TemplateError,
    evaluate,
    parse_template,
    select_template,
)
from emdesk.domain.devices import DeviceKind
from emdesk.domain.visits import VisitKind
from emdesk.services.checklists import TEMPLATES_DIR, load_templates

HEAD = 'name = "t"\ntitle = "T"\nvisit = "install"\n'
TICK = '[[steps]]\nkey = "a"\nlabel = "A"\n'


@pytest.mark.parametrize("text, expected", [
    ("name = ", "not valid TOML"),
    (HEAD, "steps"),                                                            # no steps at all
    (HEAD + "steps = []\n", "no steps"),
    ('name = "t"\ntitle = "T"\nvisit = "visit"\n' + TICK, "visit"),            # not a visit kind
    (HEAD + 'devices = ["rf"]\n' + TICK, "devices"),                            # not a device kind
    (HEAD + TICK + 'kind = "photo"\n', "step 1 ('a'), kind"),                   # not a step kind
    (HEAD + TICK + 'required = "yes"\n', "step 1 ('a'), required"),             # not a bool
    (HEAD + TICK + 'colour = "red"\n', "step 1 ('a')"),                         # unknown field
    (HEAD + TICK + '[[steps]]\nlabel = "B"\n', "step 2"),                       # no key
    (HEAD + TICK + TICK, "step 2 ('a'): key used twice"),
    (HEAD + '[[steps]]\nkey = "a b"\nlabel = "A"\n', "step 1 ('a b'): key must be"),
    (HEAD + '[[steps]]\nkey = "a"\nlabel = " "\n', "step 1 ('a'): label is empty"),
    (HEAD + TICK + 'kind = "reading"\n', "step 1 ('a'): a reading step needs readings"),
    (HEAD + TICK + 'kind = "reading"\nreadings = ["rssi"]\n', "unknown reading 'rssi'"),
    (HEAD + TICK + 'readings = ["pairing_id"]\n', "readings belong to kind = \"reading\""),
    (HEAD + TICK + 'kind = "choice"\nchoices = ["one"]\n', "at least two choices"),
    (HEAD + TICK + 'kind = "choice"\nchoices = ["x", "x"]\n', "a choice is listed twice"),
    (HEAD + TICK + 'choices = ["x", "y"]\n', "choices and per_device belong"),
    (HEAD + TICK + 'required = false\nskip = true\n', "skip is for required steps"),
    (HEAD + TICK + 'only_for = ["hmu", "toaster"]\n', "step 1 ('a'), only_for"),
])
def test_broken_templates_are_refused_naming_file_and_step(text, expected):
    with pytest.raises(TemplateError) as caught:
        parse_template("broken.toml", text)
    message = str(caught.value)
    assert message.startswith("broken.toml: ") and expected in message, message


def test_a_directory_with_a_broken_or_doubled_template_will_not_load(tmp_path):
    for path in TEMPLATES_DIR.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text())
    assert len(load_templates(tmp_path)) == len(list(TEMPLATES_DIR.glob("*.toml")))
    (tmp_path / "zz_copy.toml").write_text((TEMPLATES_DIR / "check.toml").read_text())
    with pytest.raises(TemplateError, match="zz_copy.toml: name 'check' is already used by check.toml"):
        load_templates(tmp_path)
    (tmp_path / "zz_copy.toml").unlink()
    (tmp_path / "removal.toml").unlink()
    with pytest.raises(TemplateError, match="no template for removal visits"):
        load_templates(tmp_path)


def test_the_shipped_templates_say_what_the_issue_asks():
    t = {x.name: x for x in load_templates()}
    assert [s.key for s in t["install_rf"].steps] == [
        "identity_confirmed", "conditions_explained", "leaflet_given", "tag_fitted", "home_unit_installed",
        "pairing", "curfew_confirmed", "wearer_acknowledgement"]
    assert {"first_fix", "charger_given"} <= {s.key for s in t["install_gps"].steps}
    assert {"battery", "strap", "unit_position"} <= {s.key for s in t["check"].steps}
    assert {"tag_removed", "unit_recovered", "charger_recovered", "device_condition", "stock_updated"} <= {
        s.key for s in t["removal"].steps}
    readings = [s for s in t["install_rf"].steps if s.kind.value == "reading"]
    assert [s.key for s in readings] == ["pairing"]


K = DeviceKind


@pytest.mark.parametrize("visit, kinds, name", [
    (VisitKind.INSTALL, {K.RF_TAG, K.HMU}, "install_rf"),
    (VisitKind.INSTALL, {K.HMU}, "install_rf"),
    (VisitKind.INSTALL, {K.GPS_TAG}, "install_gps"),
    (VisitKind.INSTALL, {K.GPS_TAG, K.HMU}, "install_gps"),               # GPS wins over the home unit
    (VisitKind.INSTALL, {K.ALCOHOL_TAG, K.HMU}, "install_alcohol"),
    (VisitKind.INSTALL, set(), "install_rf"),                             # kit not known yet: the base one
    (VisitKind.CHECK, {K.GPS_TAG}, "check"),
    (VisitKind.REPAIR, set(), "repair"),
    (VisitKind.REMOVAL, {K.RF_TAG, K.HMU}, "removal"),
])
def test_the_template_follows_the_visit_and_the_kit(visit, kinds, name):
    assert select_template(load_templates(), visit, kinds).name == name


NOW = datetime(2026, 11, 26, 9, tzinfo=timezone.utc)


def tick(step, n, **kw):
    """The n-th tick made (its stamp orders it)."""
    return ChecklistTick(visit_id="v", order_id="o", subject_id="s", template="removal@1", step=step,
                         at=NOW + timedelta(seconds=n), by="u", hlc=f"{1764147600000 + n:013d}-0000-desk", **kw)


REMOVAL_STEPS = ["identity_confirmed", "tag_removed", "unit_recovered", "device_condition", "stock_updated"]
BOTH = {"RF-1": "good", "HMU-1": "good"}


@pytest.mark.parametrize("ticks, complete, resume, blocking", [
    ([], False, "identity_confirmed", REMOVAL_STEPS),
    ([tick("identity_confirmed", 1)], False, "tag_removed", REMOVAL_STEPS[1:]),
    # Unticked later: not done again; ticked again later still: done.
    ([tick("identity_confirmed", 1), tick("identity_confirmed", 2, done=False)], False, "identity_confirmed",
     REMOVAL_STEPS),
    ([tick("identity_confirmed", 2, done=False), tick("identity_confirmed", 3)], False, "tag_removed",
     REMOVAL_STEPS[1:]),
    # The stamps decide, not the list's order.
    ([tick("identity_confirmed", 3), tick("identity_confirmed", 2, done=False)], False, "tag_removed",
     REMOVAL_STEPS[1:]),
    # Everything, with a skip that the step allows.
    ([tick(s, i) for i, s in enumerate(["identity_confirmed", "unit_recovered", "stock_updated"])]
     + [tick("tag_removed", 5, done=False, skipped="wearer absconded"),
        tick("device_condition", 6, value={"RF-1": "not recovered", "HMU-1": "good"})], True, None, []),
    # A per-device answer missing one device blocks, naming it.
    ([tick(s, i) for i, s in enumerate(["identity_confirmed", "tag_removed", "unit_recovered", "stock_updated"])]
     + [tick("device_condition", 6, value={"RF-1": "good"})], False, "device_condition", ["device_condition"]),
    # Deleted (tombstoned) ticks do not count.
    ([tick("identity_confirmed", 1, deleted=True)], False, "identity_confirmed", REMOVAL_STEPS),
    # Ticks of another template (the kit changed) do not count.
    ([tick("identity_confirmed", 1).evolve(template="check@1")], False, "identity_confirmed", REMOVAL_STEPS),
])
def test_evaluation_from_ticks(ticks, complete, resume, blocking):
    removal = next(t for t in load_templates() if t.name == "removal")
    ev = evaluate(removal, ticks, kinds={K.RF_TAG, K.HMU}, devices=list(BOTH))
    assert ev.complete is complete and ev.resume == resume
    assert [s.key for s in ev.blocking] == blocking
    assert not next(s for s in ev.steps if s.key == "charger_recovered").applies      # no GPS tag here
    if "device_condition" in blocking and any(t.step == "device_condition" for t in ticks):
        assert any("no answer for HMU-1" in r for r in ev.reasons), ev.reasons


@pytest.mark.parametrize("value, done, problem", [
    ({"pairing_id": "0a0b"}, True, ""),
    ({"pairing_id": "0a0b", "range_rssi_dbm": -58, "strap_closed": True}, True, ""),
    ({"range_rssi_dbm": -58}, False, "missing from the devices: pairing id"),
    ({"pairing_id": "0a0b", "strap_closed": False}, False, "failed on the device: strap closed"),
    ({"pairing_id": ""}, False, "missing from the devices"),
])
def test_a_reading_step_is_done_by_the_devices_readings(value, done, problem):
    rf = next(t for t in load_templates() if t.name == "install_rf")
    t = ChecklistTick(visit_id="v", order_id="o", subject_id="s", template="install_rf@1", step="pairing",
                      at=NOW, by="u", value=value, source="devices", hlc="1764147600000-0000-desk")
    state = next(s for s in evaluate(rf, [t], kinds={K.RF_TAG, K.HMU}).steps if s.key == "pairing")
    assert state.done is done and problem in state.problem
