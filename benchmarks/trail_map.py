"""A 7-day trail of 10,000 fixes on the map: from ``show_order()`` to drawn.

One wearer's week in a real store (nights at home, days out with stops, a few doubtful
fixes, an exclusion zone), shown in ``TrailMap`` in a real QtWebEngine page offscreen:
the time from the call to the page saying it has drawn the trail (its title, set after
the polyline and markers are added), median of several.  The baseline, in the same run:
the naive page, every fix a folium ``CircleMarker`` with its time as a tooltip and a
folium line through them all, rendered and loaded the same way.  Goal: under 1 s.

    python -m benchmarks --only trail_map
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")

FIXES = 10_000
DAYS = 7
RUNS = 5
BASELINE_RUNS = 1
HOME = (52.4800, -1.8900)
END = datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
START = END - timedelta(days=DAYS)


def week(n: int = FIXES, seed: int = 13):
    """(at_ms, lat, lon, hdop) of a plausible week: at home overnight (GPS jitter), out
    from 09:00 to 18:00 walking between a few places and waiting at each."""
    import numpy as np

    rng = np.random.default_rng(seed)
    at = np.linspace(START.timestamp() * 1000, END.timestamp() * 1000 - 60_000, n).astype(np.int64)
    hour = ((at // 3_600_000) % 24).astype(int)
    places = np.array(HOME) + rng.normal(0, 0.02, (6, 2))
    lat, lon = np.full(n, HOME[0]), np.full(n, HOME[1])
    out = (hour >= 9) & (hour < 18)
    # Out: an hour at a place, then walk to the next.
    leg = (at // 3_600_000).astype(int)
    frac = np.clip(((at % 3_600_000) / 3_600_000 - 0.6) / 0.4, 0, 1)
    a, b = places[leg % 6], places[(leg + 1) % 6]
    lat = np.where(out, a[:, 0] + (b[:, 0] - a[:, 0]) * frac, lat)
    lon = np.where(out, a[:, 1] + (b[:, 1] - a[:, 1]) * frac, lon)
    lat += rng.normal(0, 0.00003, n)             # a few metres of GPS noise
    lon += rng.normal(0, 0.00005, n)
    hdop = np.where(rng.random(n) < 0.02, rng.uniform(4.5, 12, n), rng.uniform(0.7, 1.6, n))
    return at, lat, lon, hdop


def build(path: Path):
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.conditions import Circle, Conditions, Zone, ZoneKind
    from emdesk.domain.orders import Cohort, Order, OrderStatus
    from emdesk.domain.people import Address, Subject
    from emdesk.domain.users import Role, User
    from emdesk.store import Store

    store, _ = Store.create(path, plain=True, clock=FixedClock(END))
    subject = Subject(given_name="Bench", family_name="Week", addresses=(Address(lat=HOME[0], lon=HOME[1],
                                                                                  postcode="B1 1AA"),))
    zone = Zone(name="victim's street", kind=ZoneKind.EXCLUSION,
                shape=Circle(lat=HOME[0] + 0.01, lon=HOME[1] + 0.01, radius_m=300))
    order = Order(reference="BENCH-WEEK", subject_id=subject.id, cohort=Cohort.COURT_SENTENCE,
                  status=OrderStatus.ACTIVE, start=date(2026, 11, 1), end=date(2027, 3, 1), region="West Midlands",
                  conditions=Conditions(zones=(zone,)))
    user = User(username="sup", display_name="Sup", role=Role.SUPERVISOR, region="West Midlands")
    with store.transaction():
        store.put_many([subject])
        store.put_many([order])
        store.put(user)
    at, lat, lon, hdop = week()
    rows = [(order.id, "GPS-BENCH", int(t), "position", float(a), float(o), float(h), 0.5, None, None, int(t), 0)
            for t, a, o, h in zip(at, lat, lon, hdop)]
    store.telemetry.append(rows, [])
    return store, user, order


def _wait(app, done, timeout_s: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the page did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def naive_layer(trail):
    """The baseline: every fix a folium object."""
    import folium

    def add(builder):
        points = list(zip(trail.lat.tolist(), trail.lon.tolist()))
        folium.PolyLine(points, weight=3).add_to(builder.map)
        for t, p in zip(trail.at.tolist(), points):
            stamp = datetime.fromtimestamp(t / 1000, timezone.utc).strftime("%a %d %b %H:%M:%S")
            folium.CircleMarker(p, radius=3, tooltip=stamp).add_to(builder.map)
        return points
    return add


def main() -> None:
    import PySide6.QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from emdesk.domain.clock import FixedClock
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.services.context import AppContext
    from emdesk.ui.maps.trail_map import TrailMap
    from emdesk.ui.maps.trail_page import render_trail
    from emdesk.ui.maps.view import MapView
    from emdesk.ui.tasks import end_session

    from emdesk.ui.gui_gc import GuiThreadCollector

    app = QApplication.instance() or QApplication([])
    collector = GuiThreadCollector(app)       # as in the app: Qt objects are never freed on a lane
    with tempfile.TemporaryDirectory(prefix="emdesk-trail-bench-") as tmp:
        store, user, order = build(Path(tmp) / "bench.db")
        ctx = AppContext.for_user(store, user, FixedClock(END), GazetteerGeocoder())
        trail = ctx.trails.trail(order.id, START, END)
        print(f"{len(trail):,} fixes over {DAYS} days; {len(trail.kept):,} drawn after simplification "
              f"({int(trail.doubtful.sum())} doubtful), {len(trail.stops)} stops, {len(trail.crossings)} zone crossings")

        # Parts, for the record: the service read and the page written.
        t0 = time.perf_counter()
        ctx.trails.trail(order.id, START, END)
        t1 = time.perf_counter()
        render_trail(trail, tiles=None, folder=Path(tmp))
        t2 = time.perf_counter()

        tm = TrailMap(ctx)
        tm.resize(1200, 800)
        tm.show()
        drawn = []
        tm.loaded.connect(drawn.append)
        times = []
        for run in range(RUNS + 1):                       # the first warms QtWebEngine up
            drawn.clear()
            started = time.perf_counter()
            tm.show_order(order.id, START, END)
            _wait(app, lambda: drawn)
            assert drawn == [True], "the trail page failed to draw"
            if run:
                times.append(time.perf_counter() - started)
        ours = statistics.median(times)

        view = MapView()
        view.resize(1200, 800)
        view.show()
        naive = []
        for run in range(BASELINE_RUNS):         # ~20 s each: once is enough to compare
            done = []
            view.page_loaded.connect(done.append)
            started = time.perf_counter()
            view.show_layers(naive_layer(trail))
            _wait(app, lambda: done, 300)
            naive.append(time.perf_counter() - started)
            view.page_loaded.disconnect(done.append)
        baseline = statistics.median(naive)

        print(f"  trail service {1000 * (t1 - t0):.0f} ms, page written {1000 * (t2 - t1):.0f} ms")
        print(f"  show_order() to drawn: median {1000 * ours:.0f} ms of {RUNS} "
              f"({', '.join(f'{1000 * t:.0f}' for t in times)}); goal under 1000 ms: "
              f"{'met' if ours < 1.0 else 'NOT met'}")
        print(f"  baseline, every fix a folium CircleMarker: median {1000 * baseline:.0f} ms of {len(naive)}")
        print(f"  ratio: {baseline / ours:.1f}x faster than the naive page")
        tm.close()
        view.close()
        tm.deleteLater()
        view.deleteLater()
        app.processEvents()
        # Pages go before the process ends: a QtWebEngine page alive at exit crashes it.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        end_session(ctx)
        collector.stop()


if __name__ == "__main__":
    main()
