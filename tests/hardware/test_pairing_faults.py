"""Pull the cable or lose a frame at EVERY request of a pairing: never half paired.

A clean pairing is run once to count the requests each device sees (HELLO is 1).
Then for every request k on either device the line is cut at k (before the device
acts on it, or after it acted but before its answer), silently or by the port
vanishing; or one request or one answer is lost.  Afterwards both emulated devices
must be fully paired to each other or not paired at all, and the procedure's result
must say which.
"""
from __future__ import annotations

from datetime import time

import pytest

from emdesk.devices.client import DeviceClient
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.pairing import PairingOutcome, PairingStep, check_pairing, pair_devices
from emdesk.devices.protocol import PairingState
from emdesk.domain.conditions import Conditions, Curfew, CurfewWindow
from hardware.testing import KEY, tag_and_hmu

CONDITIONS = Conditions(curfew=Curfew(windows=(CurfewWindow(weekday=0, start=time(19), end=time(7)),)))
CUT = LinkPolicy(timeout=0.05, retries=2, backoff=0.005, idle_gap=0.03)
LOSSY = LinkPolicy(timeout=0.08, retries=2, backoff=0.005, idle_gap=0.03)
TTL = 300


def _baseline() -> dict[str, int]:
    with tag_and_hmu() as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert result.paired
        return {"tag": tag.requests, "hmu": hmu.requests}


COUNTS = _baseline()
EVERY_REQUEST = [(who, k) for who in ("tag", "hmu") for k in range(1, COUNTS[who] + 1)]


def test_the_baseline_covers_both_devices():
    assert COUNTS["tag"] >= 8 and COUNTS["hmu"] >= 9      # hello, status, auth x2, time, prepare, config, test (+commit)


def _faults(who: str, spec: str) -> dict:
    return {"tag_faults": spec} if who == "tag" else {"hmu_faults": spec}


def assert_all_or_nothing(tag, hmu, result) -> bool:
    """Both paired to each other with one pairing id and the configs sent, or neither; matches result."""
    t, h = tag.unit.pairing, hmu.unit.pairing
    assert tag.unit.pending is None and hmu.unit.pending is None
    if t is None or h is None:
        assert t is None and h is None, f"half paired: tag={t} hmu={h}"
        assert result.outcome is not PairingOutcome.PAIRED
        return False
    assert t.pairing_id == h.pairing_id and (t.partner_serial, h.partner_serial) == (hmu.serial, tag.serial)
    assert h.config == hmu.unit.pairing.config and hmu.unit.config.curfew == CONDITIONS.curfew.windows
    assert result.outcome is not PairingOutcome.NOT_PAIRED and t.pairing_id.hex() == result.pairing_id
    return True


@pytest.mark.parametrize("how", ["silent", "vanish"])
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("who, k", EVERY_REQUEST, ids=[f"{w}{k}" for w, k in EVERY_REQUEST])
def test_cable_pulled_at_every_step(who, k, when, how):
    spec = f"unplug_at={k},unplug_when={when},unplug_how={how}"
    with tag_and_hmu(policy=CUT, **_faults(who, spec)) as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY, options=_opts())
        cut = tag if who == "tag" else hmu
        assert not cut.plugged                                 # the fault really fired
        # The other cable always answers, which settles it -- except when the home unit
        # goes at its commit: then only it could say whether the tag's commit is whole.
        at_commit = who == "hmu" and k == COUNTS["hmu"] - 1
        assert result.outcome is not PairingOutcome.UNKNOWN or at_commit
        if result.outcome is PairingOutcome.NOT_PAIRED:
            assert result.error is not None and result.failed_step is not None
        # What is left uncommitted lapses: by timeout (vanished port) or on reconnect (HELLO).
        if how == "vanish":
            for d in (tag, hmu):
                d.advance(TTL + 1)
        else:
            (tl if cut is tag else hl).close()                 # the app lets go of the port and reopens it
            cut.plug_in()
            with DeviceLink.open(cut.port, policy=CUT) as again:
                c = DeviceClient(again)
                c.hello()
                state = c.status().pairing_state
            assert state is not PairingState.PENDING
            other = hmu if cut is tag else tag
            other.advance(TTL + 1)
        paired = assert_all_or_nothing(tag, hmu, result)
        if result.outcome is PairingOutcome.UNKNOWN:
            tl.close()
            hl.close()
            hmu.plug_in()
            with DeviceLink.open(tag.port, policy=CUT) as t2, DeviceLink.open(hmu.port, policy=CUT) as h2:
                outcome = check_pairing(t2, h2, result.pairing_id)
            assert paired == (outcome is PairingOutcome.PAIRED)
        else:
            assert paired == (result.outcome is PairingOutcome.PAIRED)
        assert paired == _expect_paired(who, k, when)


def _expect_paired(who: str, k: int, when: str) -> bool:
    """The HMU's second-last request is PAIR_COMMIT, each device's last is VERIFY's STATUS."""
    if who == "hmu":
        commit = COUNTS["hmu"] - 1
        return k > commit or (k == commit and when == "after")
    return k == COUNTS["tag"]


def _opts():
    from emdesk.devices.pairing import PairingOptions
    return PairingOptions(pairing_ttl_s=TTL)


@pytest.mark.parametrize("lose", ["lose_request", "lose_response"])
@pytest.mark.parametrize("who, k", EVERY_REQUEST, ids=[f"{w}{k}" for w, k in EVERY_REQUEST])
def test_a_lost_frame_at_every_step_is_recovered(who, k, lose):
    with tag_and_hmu(policy=LOSSY, **_faults(who, f"{lose}={k}")) as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert result.paired, result.error
        assert assert_all_or_nothing(tag, hmu, result)
        assert (tl.stats.retries + hl.stats.retries) >= 1
        if lose == "lose_response":
            # the device acted once: one PAIRED event each, whatever was retried
            assert [e.code.name for e in tag.unit.events].count("PAIRED") == 1
            assert [e.code.name for e in hmu.unit.events].count("PAIRED") == 1


@pytest.mark.parametrize("who", ["tag", "hmu"])
def test_corrupted_and_noisy_lines_still_pair(who):
    with tag_and_hmu(policy=LOSSY, **_faults(who, "corrupt_every=3,noise_every=4,drop_every=7")) as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert result.paired, result.error
        assert assert_all_or_nothing(tag, hmu, result)


def test_both_cables_pulled_at_the_commit_gives_unknown_then_check_says_paired():
    hmu_commit = COUNTS["hmu"] - 1           # the last HMU request is VERIFY's STATUS; the one before is COMMIT
    tag_next = COUNTS["tag"]                 # the tag's VERIFY/resolve STATUS
    with tag_and_hmu(policy=CUT, tag_faults=f"unplug_at={tag_next}",
                     hmu_faults=f"unplug_at={hmu_commit},unplug_when=after") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, CONDITIONS, key=KEY)
        assert result.outcome is PairingOutcome.UNKNOWN and result.failed_step is PairingStep.COMMIT
        assert "reconnect both" in result.message
        assert tag.unit.pairing and hmu.unit.pairing               # consistent: both committed
        tl.close()
        hl.close()
        tag.plug_in()
        hmu.plug_in()
        with DeviceLink.open(tag.port, policy=CUT) as t2, DeviceLink.open(hmu.port, policy=CUT) as h2:
            assert check_pairing(t2, h2, result.pairing_id) is PairingOutcome.PAIRED
            assert check_pairing(t2, h2, "00" * 8) is PairingOutcome.NOT_PAIRED
