"""The incident queue's model at 100,000 incidents: filter + sort, and 1,000 new live.

Goals (issue 13): filter and sort under 100 ms; the model update for 1,000 new incidents
under 100 ms, with a view attached, the selection kept and the GUI thread never frozen.
Baselines measured in the same run over the same rows:

- Python ``sorted()`` + a list comprehension filter (the least a Python model would do);
- the app's own ``RowTableModel`` + ``RowSortFilterProxy`` (a ``QSortFilterProxyModel``
  comparing in Python), at 20,000 rows because at 100,000 it takes far too long;
- a model reset with the 1,000 new rows and the 100,000 (selection and scroll lost).

    QT_QPA_PLATFORM=offscreen python -m benchmarks --only queue_model
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

N = int(os.environ.get("EMDESK_BENCH_QUEUE", "100000"))
PROXY_N = 20_000
NEW = 1_000
KIT = Path(__file__).resolve().parents[1] / "tests" / "ui" / "queue" / "queueui_kit.py"


def _kit():
    """The seeded queue rows the model's tests use (one generator for both)."""
    spec = importlib.util.spec_from_file_location("queueui_kit", KIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from types import SimpleNamespace

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from emdesk.domain.clock import FixedClock
    from emdesk.services.queue_items import QueueBatch
    from emdesk.ui.queue.model import QueueData, QueueFilter, QueueModel
    from emdesk.ui.queue.panel import QueuePanel
    from emdesk.ui.table_model import Column, RowSortFilterProxy, RowTableModel

    app = QApplication.instance() or QApplication([])
    kit = _kit()
    t = time.perf_counter()
    items = kit.make_items(N, seed=13)
    made = time.perf_counter() - t
    t = time.perf_counter()
    data = QueueData(items)
    built = (time.perf_counter() - t) * 1000
    model = QueueModel(now=kit.NOW)
    model.set_data(data)
    later = QueueData(items)
    t = time.perf_counter()
    model.set_data(later)                     # a later snapshot: the swap is all the GUI thread does
    swapped = (time.perf_counter() - t) * 1000
    print(f"{N:,} incidents generated in {made:.1f} s; their numpy columns built in {built:.0f} ms "
          f"(on the store lane); a later snapshot swapped in on the GUI thread in {swapped:.0f} ms")

    cases = [
        ("all, by priority", QueueFilter(), "priority", True),
        ("needs action, by deadline", QueueFilter(statuses=frozenset({"open", "acknowledged", "escalated"})),
         "deadline", False),
        ("open curfews in court bail, by age", QueueFilter(statuses=frozenset({"open"}), cohort="court_bail",
                                                           condition="curfew"), "age", True),
        ("text 'khan', by reference", QueueFilter(text="khan"), "reference", False),
        ("code AL08 priority>=50, by cohort", QueueFilter(code="AL08", min_priority=50), "cohort", False),
    ]
    worst = 0.0
    rules = {
        "all, by priority": (lambda it: True, lambda it: -it.priority),
        "needs action, by deadline": (lambda it: it.status in ("open", "acknowledged", "escalated"),
                                      lambda it: it.notify_by),
        "open curfews in court bail, by age": (lambda it: it.status == "open" and it.cohort == "court_bail"
                                               and it.condition == "curfew", lambda it: it.started_at),
        "text 'khan', by reference": (lambda it: "khan" in f"{it.reference} {it.subject_name}".lower(),
                                      lambda it: it.reference),
        "code AL08 priority>=50, by cohort": (lambda it: "AL08" in it.codes and it.priority >= 50,
                                              lambda it: it.cohort),
    }
    print(f"\nfilter + sort over {N:,} (median of 5; goal < 100 ms)")
    for name, flt, key, desc in cases:
        def run(flt=flt, key=key, desc=desc):
            model.set_filter(QueueFilter(statuses=frozenset({"none"})))    # a real change every time
            model._sort_key, model._descending = key, desc
            model.set_filter(flt)
        ours = _ms(run)
        keep, sort_key = rules[name]
        python = _ms(lambda: sorted((it for it in items if keep(it)), key=sort_key), repeat=3)
        worst = max(worst, ours)
        print(f"  {name:<38} {ours:7.1f} ms   python sorted() {python:7.1f} ms   x{python / ours:5.1f} faster"
              f"   rows {model.rowCount():,}")

    # The app's QSortFilterProxyModel over the same kind of rows, at 20,000.
    some = items[:PROXY_N]
    table = RowTableModel([Column("Priority", lambda it: it.priority), Column("Reference", lambda it: it.reference),
                           Column("Name", lambda it: it.subject_name), Column("Status", lambda it: it.status)])
    table.beginResetModel()
    table._rows = list(some)         # loaded at once (row by row it takes minutes)
    table.endResetModel()
    proxy = RowSortFilterProxy()
    proxy.setSourceModel(table)
    small = QueueModel(now=kit.NOW)
    small.set_items(some)
    t = time.perf_counter()
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    proxy_sort = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    proxy.setFilterFixedString("khan")
    proxy_filter = (time.perf_counter() - t) * 1000
    ours_small = _ms(lambda: (small.set_filter(QueueFilter(text="khan")), small.sort_by("priority", True),
                              small.set_filter(QueueFilter())))
    print(f"\nQSortFilterProxyModel (RowSortFilterProxy) at {PROXY_N:,}: sort {proxy_sort:.0f} ms + "
          f"filter {proxy_filter:.0f} ms = {proxy_sort + proxy_filter:.0f} ms; QueueModel filter+sort+unfilter "
          f"{ours_small:.1f} ms: x{(proxy_sort + proxy_filter) / ours_small:.0f} faster")

    # 1,000 new incidents into 100,000, with the panel's view attached and a selection held.
    ctx = SimpleNamespace(clock=FixedClock(kit.NOW), queue=None, incidents=None)
    panel = QueuePanel(ctx)
    panel.resize(1300, 700)
    panel.show()
    panel.model.set_items(items)
    panel.select_row(500)
    chosen = panel.selected().id
    app.processEvents()
    batches = [kit.make_items(NEW, seed=100 + i, start=1_000_000 + i * NEW) for i in range(3)]
    batches = [[replace(it, priority=101, status="open") for it in b] for b in batches]   # all land above
    times, paints = [], []
    for b in batches:
        t = time.perf_counter()
        panel.apply(QueueBatch(items=b, cursor="x"))     # model merge + re-order + the view's layout
        times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        app.processEvents()                               # the repaint of the rows on screen
        paints.append((time.perf_counter() - t) * 1000)
    ours_apply, paint = statistics.median(times), statistics.median(paints)
    kept = panel.selected().id == chosen
    updates = [replace(it, priority=(it.priority + 7) % 100, updated="u") for it in items[:NEW]]
    t = time.perf_counter()
    panel.apply(QueueBatch(items=updates, cursor="y"))
    app.processEvents()
    ours_update = (time.perf_counter() - t) * 1000
    panel.close()

    # Baseline: a reset with the same 1,001,000 rows (what a model without merging does; it
    # also loses the selection and the scroll position).
    panel = QueuePanel(ctx)
    panel.resize(1300, 700)
    panel.show()
    panel.model.set_items(items)
    app.processEvents()
    t = time.perf_counter()
    panel.model.set_items(batches[0] + items)
    app.processEvents()
    base_apply = (time.perf_counter() - t) * 1000
    panel.close()
    print(f"\n{NEW:,} new incidents into {N:,} with the view attached (median of 3; goal < 100 ms): "
          f"{ours_apply:.1f} ms; then the repaint {paint:.1f} ms; selection kept: {kept}")
    print(f"{NEW:,} changed incidents in place: {ours_update:.1f} ms")
    print(f"a model reset with the same rows (selection lost): {base_apply:.0f} ms: "
          f"merging is x{base_apply / ours_apply:.0f} faster")
    print(f"\nworst filter+sort {worst:.1f} ms (goal < 100), apply {ours_apply:.1f} ms (goal < 100): "
          f"{'OK' if worst < 100 and ours_apply < 100 and kept else 'MISSED'}")


if __name__ == "__main__":
    main()
