"""The incident queue's reads over 100,000 incidents in a real store.

Times ``IncidentQueue.snapshot()`` (the query, the joins and the QueueItems with their
deadlines) against the baseline of reading the same incidents the plain way (``SELECT data``
and decoding each record), and ``changes(cursor)`` after 1,000 new incidents.

    python -m benchmarks --only queue_store
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REGIONS = ("West Midlands", "Wales", "London", "North West", "South East")
CODES = (("AL08",), ("AL04",), ("AL08", "AL09"), ("ZONE-EXCLUSION-ENTRY",), ("AL16",))
REASONS = (("curfew breach 45 min",), ("exclusion zone entered", "repeat in 30 days"), ("likely technical: supply cut",),
           ("tamper", "night time"), ())


def fill(store, incidents: int, *, people: int = 5000, seed: int = 13, start: datetime | None = None,
         status: str = "open") -> list:
    """``incidents`` incidents over ``people`` orders in the five regions, written as sync
    writes them (``apply_remote_many``: one executemany, stamped as the hub would)."""
    from emdesk.domain.ids import new_id
    from emdesk.domain.monitoring import Incident, IncidentStatus
    from emdesk.domain.orders import Cohort, Order, OrderStatus
    from emdesk.domain.people import Subject
    from emdesk.store.store import encode

    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, 7, tzinfo=timezone.utc)
    now = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)
    stamp = iter(range(seed * 10**7, (seed + 1) * 10**7))

    def hlc() -> str:
        return f"{int(now.timestamp() * 1000) + next(stamp):013d}-0000-bench"

    subjects = [Subject(given_name=f"Given{i}", family_name=f"Family{i}", created_at=now, updated_at=now,
                        origin="bench", hlc=hlc()) for i in range(people)]
    cohorts = list(Cohort)
    orders = [Order(reference=f"EM-{i:06d}", subject_id=s.id, cohort=cohorts[i % len(cohorts)],
                    status=OrderStatus.ACTIVE, region=REGIONS[i % len(REGIONS)], created_at=now, updated_at=now,
                    origin="bench", hlc=hlc()) for i, s in enumerate(subjects)]
    made = []
    for n in range(incidents):
        o = orders[rng.randrange(people)]
        day = start + timedelta(days=rng.randrange(30))
        began = day + timedelta(minutes=rng.randrange(24 * 60))
        made.append(Incident(
            id=new_id(), order_id=o.id, subject_id=o.subject_id, reference=o.reference, region=o.region,
            condition=rng.choice(("curfew", "exclusion", "tamper")), codes=rng.choice(CODES), period_start=day,
            started_at=began, ended_at=began + timedelta(minutes=rng.randrange(5, 300)) if n % 3 else None,
            seconds=float(rng.randrange(60, 18000)), status=IncidentStatus(status), priority=rng.randrange(101),
            reasons=rng.choice(REASONS), technical=n % 7 == 0, created_at=now, updated_at=now, origin="bench",
            hlc=hlc()))
    with store.applying_remote():
        for table, records in (("subjects", subjects), ("orders", orders), ("incidents", made)):
            store.apply_remote_many(table, [encode(r) for r in records])
    return made


def naive_snapshot(store, clock) -> list:
    """The same QueueItems the straightforward way: decode every incident, join its order
    and person in Python, work out its deadlines."""
    from emdesk.domain.deadlines import deadlines
    from emdesk.domain.monitoring import Incident
    from emdesk.domain.orders import Order
    from emdesk.domain.people import Subject
    from emdesk.services.queue_items import QueueItem

    incidents = store.find(Incident)
    orders = store.get_many(Order, {i.order_id for i in incidents})
    people = store.get_many(Subject, {i.subject_id for i in incidents})
    out = []
    for i in incidents:
        o, p, due = orders.get(i.order_id), people.get(i.subject_id), deadlines(i.period_start)
        out.append(QueueItem(
            id=i.id, order_id=i.order_id, subject_id=i.subject_id, reference=i.reference,
            subject_name=p.full_name if p else "", region=i.region, cohort=o.cohort.value if o and o.cohort else "",
            condition=i.condition, codes=i.codes, status=i.status.value, priority=i.priority, reasons=i.reasons,
            technical=i.technical, started_at=i.started_at, ended_at=i.ended_at, seconds=i.seconds,
            period_start=i.period_start, notify_by=due.notify_by, pack_by=due.pack_by, updated=i.hlc))
    return out


def main() -> None:
    import gc

    import msgspec

    from emdesk.domain.clock import FixedClock
    from emdesk.domain.monitoring import Incident
    from emdesk.domain.users import Role, User
    from emdesk.services.queue import IncidentQueue
    from emdesk.store import Store

    n = int(os.environ.get("EMDESK_BENCH_INCIDENTS", "100000"))
    clock = FixedClock(datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
    with tempfile.TemporaryDirectory(prefix="emdesk-queue-") as tmp:
        store, _ = Store.create(Path(tmp) / "q.db", plain=True, clock=clock)
        began = time.perf_counter()
        fill(store, n)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"{n:,} incidents over 5,000 orders written in {time.perf_counter() - began:.1f} s")
        supervisor = User(username="sup", display_name="Sup", role=Role.SUPERVISOR)
        operator = User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR, region="Wales")
        decoder = msgspec.json.Decoder(Incident)

        def plain():
            with store.reading() as db:
                return [decoder.decode(r[0]) for r in db.execute("SELECT data FROM incidents WHERE deleted = 0")]

        def best(fn, repeat=5):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - t)
            return min(times), out

        for collector in ("on", "off"):
            # The desktop app runs with the automatic collector off (ui/gui_gc.py).
            (gc.enable if collector == "on" else gc.disable)()
            floor, records = best(plain)
            naive, expected = best(lambda: naive_snapshot(store, clock), repeat=3)
            snap, batch = best(IncidentQueue(store, supervisor, clock).snapshot)
            region, mine = best(IncidentQueue(store, operator, clock).snapshot)
            assert len(records) == len(batch.items) == len(expected) == n
            print(f"garbage collector {collector}:")
            print(f"  floor: SELECT data + msgspec decode of {n:,} Incidents: {floor * 1000:.0f} ms")
            print(f"  baseline: the same QueueItems the straightforward way: {naive * 1000:.0f} ms")
            print(f"  snapshot() supervisor, {len(batch.items):,} QueueItems: {snap * 1000:.0f} ms "
                  f"({naive / snap:.1f}x faster than the baseline, {snap / floor:.2f}x the floor)")
            print(f"  snapshot() operator (one region), {len(mine.items):,} QueueItems: {region * 1000:.0f} ms")
        gc.enable()
        by_id = {i.id: i for i in expected}
        assert all(i.subject_name == by_id[i.id].subject_name and i.notify_by == by_id[i.id].notify_by
                   for i in batch.items)
        fill(store, 1000, people=50, seed=14)
        queue = IncidentQueue(store, supervisor, clock)
        took, changed = best(lambda: queue.changes(batch.cursor), repeat=3)
        assert len(changed.items) == 1000 and not changed.removed, (len(changed.items), len(changed.removed))
        print(f"changes(cursor) after 1,000 new incidents: {len(changed.items):,} rows in {took * 1000:.1f} ms")
        took, _ = best(lambda: queue.changes(changed.cursor), repeat=3)
        print(f"changes(cursor) with nothing new: {took * 1000:.2f} ms")
        store.close()


if __name__ == "__main__":
    main()
