"""The README's two-desktop walkthrough, with an installation recorded offline, run as a new
user would: real `emdesk` commands in subprocesses against a real `emdesk hub serve`."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

from datetime import datetime

import httpx
import pytest
from checklist_kit import finish_checklist
from synckit import _free_port

from emdesk.domain.devices import Device
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.users import User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.services.demo_world import generate_world
from emdesk.services.installs import InstallService
from emdesk.store import Store

NOW = "2026-11-26T08:30:00Z"


def emdesk(*args: str, password: str | None = None, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMDESK_NOW": NOW, **(env_extra or {})}
    env.pop("EMDESK_PASSWORD", None)
    if password:
        env["EMDESK_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "emdesk", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)


class Hub:
    def __init__(self, store):
        self.store, self.port, self.proc = store, _free_port(), None

    def start(self):
        env = {**os.environ, "EMDESK_NOW": NOW}
        self.proc = subprocess.Popen([sys.executable, "-m", "emdesk", "hub", "serve", "--store", str(self.store),
                                      "--port", str(self.port), "--log-level", "warning"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the hub did not start")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory):
    """`emdesk hub load-demo` run once for this file (both tests ran the same command)."""
    store = tmp_path_factory.mktemp("hub") / "hub.db"
    return store, emdesk("hub", "load-demo", "--store", str(store))


@pytest.fixture
def loaded(demo_hub, tmp_path):
    """A copy of the loaded hub's store for this test alone, and what load-demo printed."""
    store, done = demo_hub
    assert done.returncode == 0, done.stderr
    for part in store.parent.iterdir():          # the store and any file beside it
        shutil.copy(part, tmp_path / part.name)
    return Hub(tmp_path / store.name), done


def test_an_installation_made_offline_reaches_the_centre(tmp_path, loaded):
    hub, loaded = loaded
    # load-demo says which officer has kit allocated for an install today, and its serials.
    officer = re.search(r"sign in as (\S+)", loaded.stdout)[1]
    serials = re.findall(r"--device \w+:(\S+)", loaded.stdout)
    world = generate_world(2026, now=datetime.fromisoformat(NOW), subjects=12)     # names and regions only
    me = next(u for u, _ in world.users if u.username == officer)
    # The region's monitoring centre, or the supervisor where a region has none of its own.
    centre = next((u for u, _ in world.users if u.role.value == "monitoring_operator" and u.region == me.region),
                  next(u for u, _ in world.users if u.role.value == "supervisor"))
    hub.start()
    try:
        for user, db in ((officer, "officer.db"), (centre.username, "centre.db")):
            joined = emdesk("join", "--hub", hub.url, "--user", user, "--db", str(tmp_path / db),
                            password=f"demo-{user}")
            assert joined.returncode == 0, joined.stderr
    finally:
        hub.stop()
    # Offline at the door: the wizard pairs the kit and records it on the laptop.
    store = Store.unlock(tmp_path / "officer.db", officer, f"demo-{officer}")
    try:
        kit = {d.serial: d for d in store.find(Device, where={"serial": serials})}
        order = store.get(Order, next(iter(kit.values())).order_id)
        visit = next(v for v in store.find(Visit, where={"order_id": order.id})
                     if v.kind is VisitKind.INSTALL and v.status is VisitStatus.SCHEDULED)
        tag = next(s for s, d in kit.items() if d.kind.worn)
        hmu = next((s for s, d in kit.items() if not d.kind.worn), None)
        user = store.find(User, where={"username": officer})[0]
        finish_checklist(store, user, store.clock, visit.id)
        InstallService(store, user, store.clock).record_installation(order.id, visit.id, tag, hmu, "PAIR-W1",
                                                                     readings={"gps_ttff_s": 31})
    finally:
        store.close()
    offline = emdesk("sync", "--db", str(tmp_path / "officer.db"), password=f"demo-{officer}")
    assert offline.returncode == 3, offline.stderr                  # no hub: nothing lost, exit 3
    hub.start()
    try:
        pushed = emdesk("sync", "--db", str(tmp_path / "officer.db"), password=f"demo-{officer}")
        assert pushed.returncode == 0, pushed.stderr
        assert re.search(r"refused 0", pushed.stdout), pushed.stdout
        pulled = emdesk("sync", "--db", str(tmp_path / "centre.db"),
                        password=f"demo-{centre.username}")
        assert pulled.returncode == 0, pulled.stderr
    finally:
        hub.stop()
    seen = Store.unlock(tmp_path / "centre.db", centre.username, f"demo-{centre.username}")
    try:
        held = seen.get(Order, order.id)
        assert held.status is OrderStatus.ACTIVE
        assert set(held.device_serials) == set(serials)
        assert seen.get(Visit, visit.id).status is VisitStatus.COMPLETED
    finally:
        seen.close()


def test_a_day_planned_at_the_centre_reaches_the_officers_laptop(tmp_path, loaded):
    """The supervisor plans the region's day on her desktop; after both sync, the officer's
    Today is that route, in that order, offline."""
    import json

    from emdesk.app.commands import _demo_now
    from emdesk.domain.clock import FixedClock, local_date
    from emdesk.services.officer_day import OfficerDayService

    morning = _demo_now()             # the hub's demo world is made as at 08:00 today
    at = {"EMDESK_NOW": morning.isoformat().replace("+00:00", "Z")}
    day = local_date(morning).isoformat()
    hub, _ = loaded
    officer, region = "officer.leeds", "Yorkshire and the Humber"
    hub.start()
    try:
        for user, db in ((officer, "officer.db"), ("supervisor", "centre.db")):
            joined = emdesk("join", "--hub", hub.url, "--user", user, "--db", str(tmp_path / db),
                            password=f"demo-{user}", env_extra=at)
            assert joined.returncode == 0, joined.stderr
        planned = emdesk("plan", "--date", day, "--region", region, "--db", str(tmp_path / "centre.db"),
                         "--user", "supervisor", "--json", "--time-limit", "2", password="demo-supervisor",
                         env_extra=at)
        assert planned.returncode == 0, planned.stderr
        plan = json.loads(planned.stdout)
        route = next(o for o in plan["officers"] if o["officer"] == officer)
        assert route["visits"], plan["unassigned"]
        pushed = emdesk("sync", "--db", str(tmp_path / "centre.db"), password="demo-supervisor", env_extra=at)
        assert pushed.returncode == 0 and re.search(r"refused 0", pushed.stdout), pushed.stdout + pushed.stderr
        pulled = emdesk("sync", "--db", str(tmp_path / "officer.db"), password=f"demo-{officer}", env_extra=at)
        assert pulled.returncode == 0, pulled.stderr
    finally:
        hub.stop()
    store = Store.unlock(tmp_path / "officer.db", officer, f"demo-{officer}")
    try:
        me = store.find(User, where={"username": officer})[0]
        today = OfficerDayService(store, me, FixedClock(morning)).day(local_date(morning))
        assert today.planned
        mine = [c.visit_id for c in today.stops if c.planned]
        assert mine == [v["visit_id"] for v in route["visits"]]
        # Every stop is on the laptop whole, a colleague's case covered today too.
        assert all(c.located and c.subject_name != "(missing subject)" for c in today.stops if c.planned)
        assert today.km == pytest.approx(route["km"], abs=0.2)
    finally:
        store.close()
