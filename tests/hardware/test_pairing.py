"""Pairing end to end over two ptys (tag + home unit), and every way it is refused."""
from __future__ import annotations

import zlib
from datetime import time

import pytest

from emdesk.devices import errors
from emdesk.devices.pairing import (
    STEPS, PairingCallbacks, PairingOptions, PairingOutcome, PairingProcedure, PairingStep, Role, pair_devices,
)
from emdesk.devices.protocol import EventCode, PairingState, SelfTestId
from emdesk.domain.conditions import (
    CheckIns, Circle, Conditions, Curfew, CurfewWindow, LocationMonitoring, Zone, ZoneKind,
)
from emdesk.domain.devices import DeviceKind
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY, tag_and_hmu

CURFEW = Curfew(windows=tuple(CurfewWindow(weekday=d, start=time(19), end=time(7)) for d in range(7)))
ZONES = (Zone(name="Victim home", kind=ZoneKind.EXCLUSION, shape=Circle(lat=51.5, lon=-0.12, radius_m=250)),)
CONDITIONS = Conditions(curfew=CURFEW)


def assert_paired(tag, hmu, result):
    t, h = tag.unit.pairing, hmu.unit.pairing
    assert result.paired and t and h
    assert t.pairing_id == h.pairing_id == bytes.fromhex(result.pairing_id)
    assert (t.partner_serial, h.partner_serial) == (hmu.serial, tag.serial)
    assert t.link_key == h.link_key
    assert tag.unit.pending is None and hmu.unit.pending is None


def assert_untouched(*devs):
    for d in devs:
        assert d.unit.pairing is None and d.unit.pending is None, d.serial


def test_rf_tag_and_home_unit_pair_with_the_curfew_on_the_home_unit():
    steps, events = [], []
    with tag_and_hmu(on_event=events.append) as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY, callbacks=PairingCallbacks(progress=steps.append))
        assert_paired(tag, hmu, result)
        assert result.outcome is PairingOutcome.PAIRED and result.error is None and not result.warnings
        assert result.completed == STEPS and [p.step for p in steps] == list(STEPS)
        assert steps[0].index == 1 and steps[-1].total == len(STEPS)
        assert (result.tag_serial, result.hmu_serial) == ("RF-104233", "HMU-000123")
        assert result.message == "paired RF-104233 and HMU-000123"
        assert hmu.unit.config.curfew == CURFEW.windows and hmu.unit.config.timezone == "Europe/London"
        assert tag.unit.config.curfew == ()
        assert result.hmu.config_crc == zlib.crc32(hmu.unit.pairing.config)
        assert result.tag.final_status.paired and result.tag.self_test.passed
        assert result.tag.identity.firmware == "2.4.1" and result.hmu.status.battery_pct == 87
        codes = [e.code for e in tag.unit.events]
        assert EventCode.PAIRED in codes and EventCode.CONFIG_APPLIED in codes
        assert tag.unit.clock_set and hmu.unit.clock_set


def test_gps_tag_with_curfew_zones_and_fix_interval():
    cond = Conditions(curfew=CURFEW, zones=ZONES, location=LocationMonitoring(fix_interval_s=30))
    with tag_and_hmu("gps_tag", tag_serial="GPS-000042") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, cond, key=KEY)
        assert_paired(tag, hmu, result)
        assert tag.unit.config.zones == ZONES and tag.unit.config.fix_interval_s == 30
        assert hmu.unit.config.curfew == CURFEW.windows and not hmu.unit.config.zones
        assert result.tag.self_test.get(SelfTestId.GPS_FIX).passed


@pytest.mark.parametrize("kind, conditions", [
    ("gps_tag", Conditions(zones=ZONES)),
    ("non_fitted", Conditions(checkins=CheckIns(per_week=7))),
])
def test_standalone_installation_without_a_home_unit(kind, conditions):
    with EmulatedDevice.start(kind, "SOLO-1") as dev:
        result = pair_devices(dev.port, None, conditions, key=KEY)       # a URL: opened and closed for us
        assert result.paired and result.hmu is None, result.error
        assert result.message == "installed SOLO-1"
        assert dev.unit.pairing.partner_serial == "" and dev.unit.config is not None


def fault_case(tag_faults=None, hmu_faults=None, tag_kind="rf_tag", conditions=CONDITIONS, **kw):
    with tag_and_hmu(tag_kind, tag_faults=tag_faults, hmu_faults=hmu_faults) as (tag, hmu, tl, hl):
        before = (tag.unit.pairing, hmu.unit.pairing)    # None, or a pairing made elsewhere
        result = pair_devices(tl, hl, conditions, key=KEY, **kw)
        assert result.outcome is PairingOutcome.NOT_PAIRED
        assert (tag.unit.pairing, hmu.unit.pairing) == before
        assert tag.unit.pending is None and hmu.unit.pending is None     # aborted at once, not left to lapse
        return result


@pytest.mark.parametrize("tag_faults, hmu_faults, error, step, text", [
    ("flat_battery", None, errors.BatteryTooLow, PairingStep.IDENTIFY,
     "battery flat on RF-104233 (3%): charge it for at least 2 hours or use another device, then press Retry"),
    (None, "flat_battery", errors.BatteryTooLow, PairingStep.IDENTIFY,
     "battery flat on HMU-000123 (3%): plug the home unit into the mains and press Retry"),
    ("strap_open", None, errors.StrapOpen, PairingStep.SELF_TEST, "strap open on RF-104233: close the strap and press Retry"),
    ("paired_elsewhere=HMU-999999", None, errors.AlreadyPaired, PairingStep.IDENTIFY,
     "RF tag RF-104233 is still paired with HMU-999999: unpair it on the bench first, or use another device"),
    (None, "unapproved_firmware", errors.FirmwareNotApproved, PairingStep.IDENTIFY,
     "Home monitoring unit HMU-000123 runs firmware 9.0.0-beta, which is not approved (approved: 3.2.0, 3.2.1): "
     "update its firmware on the bench, or use another device"),
    ("counterfeit", None, errors.CounterfeitDevice, PairingStep.AUTHENTICATE, None),
    (None, "counterfeit", errors.CounterfeitDevice, PairingStep.AUTHENTICATE, None),
    ("out_of_range", None, errors.PartnerNotInRange, PairingStep.SELF_TEST,
     "RF-104233 cannot hear its partner over the radio: bring the tag within 5 metres of the home unit and press Retry"),
    (None, "no_mains", errors.SelfTestFailed, PairingStep.SELF_TEST,
     "home unit HMU-000123 is not on mains power: plug it into a wall socket and press Retry"),
    ("case_open", None, errors.CaseOpen, PairingStep.IDENTIFY, None),
])
def test_refusals_leave_both_devices_unpaired(tag_faults, hmu_faults, error, step, text):
    result = fault_case(tag_faults, hmu_faults)
    assert isinstance(result.error, error) and result.failed_step is step
    assert not result.paired and result.message == str(result.error)
    if text:
        assert str(result.error) == text


def test_gps_tag_without_a_fix():
    result = fault_case("no_gps_fix", tag_kind="gps_tag", conditions=Conditions(curfew=CURFEW, zones=ZONES))
    assert isinstance(result.error, errors.NoGpsFix)
    assert "window" in result.error.action


def test_devices_on_the_wrong_cables():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        result = pair_devices(hl, tl, CONDITIONS, key=KEY)
        assert isinstance(result.error, errors.WrongDevice) and result.failed_step is PairingStep.IDENTIFY
        assert "is a home monitoring unit (HMU-000123), not a tag" in str(result.error)
        assert_untouched(tag, hmu)


def test_conditions_the_devices_cannot_enforce():
    result = fault_case(conditions=Conditions(curfew=CURFEW, zones=ZONES))
    assert isinstance(result.error, errors.ConditionsNotSupported)
    assert "this order has zones" in str(result.error)


def test_allocation_check_is_asked_about_each_device():
    asked = []

    def check(role, identity, status):
        asked.append((role, identity.serial, status.battery_pct))
        return "allocated to order EM-0042, not this one" if role is Role.HMU else None

    result = fault_case(callbacks=PairingCallbacks(check_allocation=check))
    assert asked == [(Role.TAG, "RF-104233", 87), (Role.HMU, "HMU-000123", 87)]
    assert isinstance(result.error, errors.NotAllocated) and result.failed_step is PairingStep.CHECK_ALLOCATION
    assert str(result.error).startswith("Home monitoring unit HMU-000123: allocated to order EM-0042, not this one: use")


def test_prompt_lets_the_officer_close_the_strap_and_carry_on():
    with tag_and_hmu(tag_faults="strap_open") as (tag, hmu, tl, hl):
        prompts = []

        def prompt(p):
            prompts.append(p)
            tag.close_strap()
            return True

        result = pair_devices(tl, hl, CONDITIONS, key=KEY, callbacks=PairingCallbacks(prompt=prompt))
        assert_paired(tag, hmu, result)
        assert [(p.step, p.attempt, type(p.error)) for p in prompts] == [(PairingStep.SELF_TEST, 1, errors.StrapOpen)]
        assert prompts[0].text == "strap open on RF-104233: close the strap and press Retry"


def test_prompt_declined_or_repeated_gives_up_cleanly():
    with tag_and_hmu(tag_faults="strap_open") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY, callbacks=PairingCallbacks(prompt=lambda p: False))
        assert isinstance(result.error, errors.Cancelled) and "strap open" in str(result.error)
        assert_untouched(tag, hmu)
        result = pair_devices(tl, hl, CONDITIONS, key=KEY, options=PairingOptions(max_prompts=2),
                              callbacks=PairingCallbacks(prompt=lambda p: True))
        assert isinstance(result.error, errors.StrapOpen)
        assert_untouched(tag, hmu)


def test_cancel_between_steps_rolls_back():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        proc = PairingProcedure(tl, hl, CONDITIONS, key=KEY)
        while proc.step is not PairingStep.SELF_TEST:
            assert proc.advance()
        assert tag.unit.pending and hmu.unit.pending                  # prepared and configured
        proc.cancel()
        assert not proc.advance() and proc.done
        assert isinstance(proc.result.error, errors.Cancelled) and proc.result.failed_step is PairingStep.SELF_TEST
        assert proc.result.completed == STEPS[:STEPS.index(PairingStep.SELF_TEST)]
        assert_untouched(tag, hmu)


def test_pairing_again_replaces_a_pairing_with_the_same_partner_and_ignores_stale_leftovers():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        first = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert_paired(tag, hmu, first)
        proc = PairingProcedure(tl, hl, CONDITIONS, key=KEY)         # a half-done attempt, abandoned
        for _ in range(STEPS.index(PairingStep.SELF_TEST)):
            proc.advance()
        assert tag.unit.pending is not None
        second = pair_devices(tl, hl, Conditions(curfew=Curfew(windows=CURFEW.windows[:2])), key=KEY)
        assert_paired(tag, hmu, second)
        assert second.pairing_id != first.pairing_id and len(hmu.unit.config.curfew) == 2


def test_unpaired_states_reported_by_status_match():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        st = result.hmu.final_status
        assert st.pairing_state is PairingState.PAIRED and st.partner_kind is DeviceKind.RF_TAG
        assert st.partner_serial == "RF-104233" and st.pairing_id.hex() == result.pairing_id


def test_procedure_opens_and_closes_ports_given_by_name():
    from hardware.air import Air
    air = Air()
    with EmulatedDevice.start("rf_tag", "RF-1", air=air) as tag, EmulatedDevice.start("hmu", "HMU-1", air=air) as hmu:
        result = pair_devices(tag.port, hmu.port, CONDITIONS, key=KEY)
        assert_paired(tag, hmu, result)
        bad = pair_devices("/dev/ttyUSB-gone", hmu.port, CONDITIONS, key=KEY)
        assert isinstance(bad.error, errors.PortUnavailable) and bad.failed_step is PairingStep.DETECT
        assert bad.tag.port == "/dev/ttyUSB-gone" and bad.hmu.port == hmu.port
        assert FAST.timeout < 1


def test_the_tag_refuses_its_commit_over_the_radio_if_the_strap_opens_at_the_last_moment():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        proc = PairingProcedure(tl, hl, CONDITIONS, key=KEY)
        while proc.step is not PairingStep.COMMIT:
            assert proc.advance()
        tag.open_strap()                                   # after the self-test, before the commit
        assert not proc.advance()
        r = proc.result
        assert r.outcome is PairingOutcome.NOT_PAIRED and r.failed_step is PairingStep.COMMIT
        assert str(r.error) == "strap open on RF-104233: close the strap and press Retry"
        assert_untouched(tag, hmu)


# -- issue 10, items 6 and 7 ----------------------------------------------------------------

def test_re_pairing_after_only_the_tag_was_unpaired_on_the_bench():
    from emdesk.devices import bench
    with tag_and_hmu() as (tag, hmu, tl, hl):
        first = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert_paired(tag, hmu, first)
        bench.unpair(tl, key=KEY)                        # the home unit still holds the old pairing
        assert tag.unit.pairing is None and hmu.unit.pairing is not None
        second = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert second.error is None, second.message      # before: "cannot hear its partner within 5 metres"
        assert_paired(tag, hmu, second)
        assert second.pairing_id != first.pairing_id


def test_a_radio_acknowledgement_lost_at_commit_is_finished():
    with tag_and_hmu(hmu_faults="lose_radio_ack=1") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        # Before: "not paired" while the tag held the pairing and the home unit did not.
        assert result.outcome is PairingOutcome.PAIRED, result.message
        assert_paired(tag, hmu, result)
        assert any("sent again and finished" in w for w in result.warnings)
        assert hmu.unit._radio_acks_lost == 1                       # the fault really fired


def test_a_radio_that_keeps_losing_acknowledgements_is_undone_not_left_half_paired():
    with tag_and_hmu(hmu_faults="lose_radio_ack=99") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert result.outcome is PairingOutcome.NOT_PAIRED and result.failed_step is PairingStep.COMMIT
        assert_untouched(tag, hmu)
        assert any("undone on RF-104233" in w for w in result.warnings)
        assert isinstance(result.error, errors.PartnerNotInRange)


def test_check_pairing_undoes_a_half_pairing_it_finds_after_reconnecting():
    from emdesk.devices.client import DeviceClient
    from emdesk.devices.pairing import check_pairing
    with tag_and_hmu() as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        hmu.unit.pairing = None                                # as if the home unit's commit was lost
        assert check_pairing(tl, hl, result.pairing_id) is PairingOutcome.UNKNOWN
        assert tag.unit.pairing is not None
        assert check_pairing(tl, hl, result.pairing_id, key=KEY) is PairingOutcome.NOT_PAIRED
        assert_untouched(tag, hmu)
        assert DeviceClient(tl).status().pairing_state is PairingState.NONE


@pytest.mark.parametrize("when, paired", [("before", False), ("after", True)])
def test_a_standalone_device_lost_at_its_commit_is_unknown_not_not_paired(when, paired):
    with EmulatedDevice.start("gps_tag", "SOLO-1") as dev:
        clean = pair_devices(dev.port, None, Conditions(zones=ZONES), key=KEY)
        assert clean.paired
        commit = dev.requests - 1                       # the last request is VERIFY's STATUS
    with EmulatedDevice.start("gps_tag", "SOLO-1", f"unplug_at={commit},unplug_when={when}") as dev:
        from emdesk.devices.link import DeviceLink
        with DeviceLink.open(dev.port, policy=FAST) as link:
            result = pair_devices(link, None, Conditions(zones=ZONES), key=KEY)
        assert result.outcome is PairingOutcome.UNKNOWN and result.failed_step is PairingStep.COMMIT
        assert (dev.unit.pairing is not None) is paired
