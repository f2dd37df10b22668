"""A laptop killed mid-checklist loses no tick: a real process ticks steps on a real encrypted
store file and is SIGKILLed while it writes; the checklist reopens with every tick it reported,
resumes at the first step not done, and the install then completes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.visits import Visit, VisitStatus
from emdesk.services.checklists import ChecklistService
from emdesk.services.installs import InstallService
from emdesk.store import Store

from .test_installs import install_world

# The child ticks the door steps one by one, saying each after it returned; then it keeps the
# store busy (opening the checklist writes an audit entry each time) until it is killed.
CHILD = textwrap.dedent("""
    import sys
    from emdesk.domain.clock import SystemClock
    from emdesk.domain.users import User
    from emdesk.services.checklists import ChecklistService
    from emdesk.store import Store

    path, key, user_id, visit_id, *steps = sys.argv[1:]
    store = Store.open(path, key=bytes.fromhex(key))
    service = ChecklistService(store, store.get(User, user_id), SystemClock())
    for step in steps:
        value = "verbal" if step == "wearer_acknowledgement" else None
        service.tick(visit_id, step, value=value)
        print("ticked", step, flush=True)
    print("busy", flush=True)
    while True:
        service.open(visit_id)
""")

BEFORE_KILL = ["identity_confirmed", "conditions_explained", "leaflet_given", "tag_fitted", "curfew_confirmed"]


def test_killed_mid_checklist_nothing_is_lost_and_the_visit_resumes(tmp_path, clock):
    path = tmp_path / "laptop.db"
    store, key = Store.create(path, clock=clock)          # encrypted, as on a real laptop
    assert store.encrypted
    world = install_world(store, clock.now())
    visit_id, ann = world["visit"].id, world["ann"]
    store.close()

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), key.hex(), ann.id, visit_id, *BEFORE_KILL],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    reported = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("ticked "):
                reported.append(line.split()[1])
            if line.strip() == "busy":
                time.sleep(0.3)            # let it write for a while: the kill lands mid-transaction
                break
        assert reported == BEFORE_KILL, child.stderr.read() if child.poll() is not None else reported
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    reopened = Store.open(path, key=key, clock=clock)
    try:
        assert reopened.verify_audit().ok
        with reopened.reading() as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ticks = reopened.find(ChecklistTick, where={"visit_id": visit_id})
        assert sorted(t.step for t in ticks) == sorted(BEFORE_KILL)            # every tick, once
        with reopened.reading() as db:
            queued = db.execute("SELECT count(*) FROM outbox WHERE table_name = 'checklist_ticks'").fetchone()[0]
        assert queued == len(BEFORE_KILL)                                     # each on its way to the hub
        service = ChecklistService(reopened, ann, clock)
        state = service.open(visit_id)
        assert state.resume == "home_unit_installed"                         # the first step not done
        assert [s.key for s in state.steps if s.done] == BEFORE_KILL
        assert not state.complete

        # Finishing works: the rest of the steps, then the pairing records the install.
        service.tick(visit_id, "home_unit_installed")
        state = service.tick(visit_id, "wearer_acknowledgement", value="signed")
        assert state.resume == "pairing" and state.blocking == (
            "Pairing and range test: readings from the devices missing (pair them with the wizard)",)
        InstallService(reopened, ann, clock).record_installation(
            world["order"].id, visit_id, "RF-104233", "HMU-000123", "0a0b0c0d", readings={"range_rssi_dbm": -58})
        assert reopened.get(Visit, visit_id).status is VisitStatus.COMPLETED
        assert service.open(visit_id).complete
    finally:
        reopened.close()
