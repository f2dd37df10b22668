"""A desktop's push, op by op and field action by field action (mixed into ``Hub``).

See engine.py for the steps an op goes through."""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from emdesk.domain import hlc as hlcmod
from emdesk.domain.field_actions import ActionRow, ActionSpec, Grant, required_action, spec_for
from emdesk.domain.users import Role

from .. import authorship
from .. import protocol as p
from ..ordering import RANK
from ..policy import AGENCIES, META_FIELDS, RULES, Policy, TableRule, Writer, may_write, merge, visit_booking
from ..scope import REFERENCES, CaseLink, shared_with
from .accounts import Account, HubError
from .storage import Tx
from .rows import MAX_PUSH_OPS, _canonical, _Event, _plain, _Row, _sees, _unallocated


# A push's writes go to the database every this many ops rather than all at its end.
SEND_EVERY = 200

# Decoded JSON holds a NUL only where its text has this escape: most payloads need no walk.
NUL_ESCAPE = "\\u0000"


def _nul_refusal(op: p.Op, data: dict) -> str | None:
    """A record holding a NUL character (U+0000) anywhere: refused, naming the field (no field
    means one, and PostgreSQL's text cannot hold it)."""
    if NUL_ESCAPE not in op.payload:
        return None
    where = p.nul_at(data)
    return where and (f"{op.table}: {where} contains a NUL character (U+0000), which the hub does not keep: "
                      "remove it and send the change again")


class Push:
    """Rights, merges and field actions of a push (mixed into ``Hub``)."""

    # -- push -------------------------------------------------------------------

    def push(self, who: Account, req: p.PushRequest) -> p.PushResponse:
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now = self.now_ms()
        if len(req.ops) > MAX_PUSH_OPS:
            raise HubError(413, "too_large", f"A push may carry at most {MAX_PUSH_OPS} changes ({len(req.ops)} sent): "
                           "send them in smaller batches.", hub_time_ms=now)
        limit = now + self.max_skew_ms
        for op in req.ops:
            try:
                ahead = hlcmod.Stamp.parse(op.hlc).ms > limit
            except ValueError:
                continue    # refused per op below
            if ahead:
                raise HubError(409, "clock_ahead",
                               "This desktop's clock is ahead of the hub's; its changes will be re-stamped and sent "
                               "again. Check the computer's date and time.", hub_time_ms=now)
        results: dict[str, p.OpResult] = {}
        restores: dict[tuple[str, str], None] = {}
        principal = who.principal
        with self.storage.write(writer=principal) as tx:
            # A few lookups for the whole batch (op ids, purged ids, current rows) rather than per op.
            for op_id, status, reason, hub_seq in tx.all_in(
                    "SELECT op_id, status, reason, hub_seq FROM applied_ops WHERE op_id IN ({})",
                    list({op.op_id for op in req.ops})):
                results[op_id] = p.OpResult(op_id=op_id, status=status, reason=reason, hub_seq=hub_seq)
            tx.memo["purged"] = set()
            for tbl in sorted({op.table for op in req.ops}):
                tx.memo["purged"] |= {(tbl, i) for (i,) in tx.all_in(
                    "SELECT id FROM purged WHERE tbl = ? AND id IN ({})",
                    sorted({op.row_id for op in req.ops if op.table == tbl}), [tbl])}
            self._prefetch(tx, {(op.table, op.row_id) for op in req.ops if op.table in RULES}
                           | self._referenced(req.ops))
            # A new row kept as sent need not go back to its desktop only while nothing the
            # desktop has not pulled yet comes before it in its feed: an earlier eviction of
            # the row's visit or case, pulled after the push, takes the desktop's copy away.
            tx.memo["pusher"] = mine = (principal, shared_with(principal))
            source, seq, whose, args = self._entries(principal)
            tx.memo["echo_free"] = tx.one(f"SELECT 1 FROM {source} WHERE {whose} AND {seq} > ? LIMIT 1",
                                          [*args, req.cursor]) is None
            decided = 0
            for unit in self._units(req.ops):
                todo = [op for op in unit if op.op_id not in results]   # applied before: a re-send
                if not todo:
                    continue
                decided += len(todo)
                if decided >= SEND_EVERY:
                    tx.send_writes()      # written while the rest is decided (PostgreSQL)
                    decided = 0
                if todo[0].action:
                    answers = self._apply_action(tx, who, todo, restores, now, req.cursor, req.ops)
                else:
                    answers = [self._apply_op(tx, who, todo[0], restores, now, req.cursor, req.ops)]
                for op, result in zip(todo, answers, strict=True):
                    tx.defer("INSERT INTO applied_ops (op_id, device_id, device_seq, user_id, tbl, row_id, status, "
                             "reason, hub_seq, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(op.op_id, who.device_id, op.device_seq, who.user_id, op.table, op.row_id,
                               result.status, result.reason, result.hub_seq, now)])
                    results[op.op_id] = result
            # Officers whose visits finished or moved in this push leave those cases now.
            self._settle_visitors(tx, now)
            self._send_back(tx, principal, list(restores), now)
            if req.ops:
                tx.execute("UPDATE hub_devices SET last_seen_ms = ?, last_device_seq = "
                           "CASE WHEN last_device_seq > ? THEN last_device_seq ELSE ? END WHERE device_id = ?",
                           [now, max(o.device_seq for o in req.ops), max(o.device_seq for o in req.ops), who.device_id])
        return p.PushResponse(results=[results[op.op_id] for op in req.ops], hub_time_ms=now)

    @staticmethod
    def _units(ops: list[p.Op]) -> list[list[p.Op]]:
        """The batch as units, parents' tables first: each op alone, and each field action's ops
        together (in table order, placed after the plain ops of its last table, so a row the
        desktop made before the action is on the hub when the action is judged).  An op id twice
        in a batch is one op."""
        seen: set[str] = set()
        singles: list[tuple[tuple, list[p.Op]]] = []
        actions: dict[str, list[p.Op]] = {}
        for i, op in enumerate(ops):
            if op.op_id in seen:
                continue
            seen.add(op.op_id)
            if op.action:
                actions.setdefault(op.action_id or op.op_id, []).append(op)
            else:
                singles.append(((RANK.get(op.table, len(RANK)), 0, i), [op]))
        for members in actions.values():
            members.sort(key=lambda o: RANK.get(o.table, len(RANK)))
            top = max(RANK.get(o.table, len(RANK)) for o in members)
            singles.append(((top, 1, ops.index(members[0])), members))
        return [unit for _, unit in sorted(singles, key=lambda u: u[0])]

    # -- field actions: all or nothing ----------------------------------------------------

    def _apply_action(self, tx: Tx, who: Account, ops: list[p.Op], restores: dict, now: int, cursor: int,
                      batch: list[p.Op]) -> list[p.OpResult]:
        """A field action (an installation, a removal...) as one unit: judged whole against the
        hub's rows, then applied inside a savepoint; any part refused refuses every part, and
        the hub's versions of all of them go back to the desktop."""
        spec = spec_for(ops[0].action)

        def refuse_all(reason: str) -> list[p.OpResult]:
            for op in ops:
                if op.table in RULES:
                    restores[(op.table, op.row_id)] = None
            return [p.OpResult(op_id=op.op_id, status="refused", reason=reason) for op in ops]

        if spec is None or any(op.action != ops[0].action for op in ops):
            return refuse_all(f"{ops[0].action!r} is not a field action this hub knows: update emdesk")
        label = spec.action.label
        whole = f"the {label} was refused as a whole, nothing of it was kept"
        if who.role not in spec.roles:
            return refuse_all(f"{who.role.label} accounts do not record {label}s: {whole}")
        rows: list[ActionRow] = []
        for op in ops:
            rule, grant = RULES.get(op.table), spec.grants.get(op.table)
            if rule is None or grant is None:
                return refuse_all(f"an {label} does not change {op.table}: {whole}")
            try:
                data = _plain(_canonical(op.table, op.payload))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                return refuse_all(f"{op.table}: the change could not be read ({exc}): {whole}")
            reason = _nul_refusal(op, data)
            if reason:
                return refuse_all(f"{reason}: {whole}")
            current = self._load(tx, op.table, op.row_id)
            before = current.data if current and not current.deleted else (
                {**current.data, "deleted": True} if current else None)
            rows.append(ActionRow(op.table, op.row_id, before, self._effective(rule, current, data, op.changed),
                                  frozenset(op.changed if op.changed is not None else data)))

        def lookup(table: str, rid: str) -> dict | None:
            row = self._load(tx, table, rid)
            return None if row is None else {**row.data, "deleted": row.deleted}

        problem = spec.check(who.user_id, rows, lookup)
        if problem:
            return refuse_all(f"{problem}: {whole}")
        with tx.savepoint() as point:
            results = [self._apply_op(tx, who, op, restores, now, cursor, batch, spec=spec) for op in ops]
            failed = next((r for r in results if r.status == "refused"), None)
            if failed is not None:
                point.undo()
        if failed is not None:
            return refuse_all(f"{failed.reason}: {whole}")
        return results

    def _hub_stamp(self, current: _Row | None) -> str:
        """A hub stamp later than every version of the row the hub holds: a field action the hub
        has judged against its current rows is applied as the hub's own event."""
        seen = [current.hlc, *current.field_hlcs.values()] if current else []
        seen = [s for s in seen if hlcmod.is_valid(s)]
        newest = max((hlcmod.Stamp.parse(s) for s in seen), key=hlcmod.Stamp.key, default=None)
        if newest is not None:
            self._hlc = hlcmod.receive(self._hlc, newest, self.now_ms(), "hub")
        return self._stamp()

    @staticmethod
    def _effective(rule: TableRule, current: _Row | None, data: dict, changed: list[str] | None) -> dict:
        """The row as it would be if every field the writer changed were taken (field merges
        take only those; the rest stays as the hub has it)."""
        if current is None or rule.policy is not Policy.FIELDS_LWW or changed is None:
            return data
        out = dict(current.data)
        out.update({k: data[k] for k in changed if k in data and k not in META_FIELDS})
        return out

    # -- one op ------------------------------------------------------------------------------

    def _apply_op(self, tx: Tx, who: Account, op: p.Op, restores: dict, now: int, cursor: int,
                  batch: list[p.Op] = (), *, spec: ActionSpec | None = None) -> p.OpResult:
        def refused(reason: str) -> p.OpResult:
            if op.table in RULES:
                restores[(op.table, op.row_id)] = None
            return p.OpResult(op_id=op.op_id, status="refused", reason=reason)

        rule = RULES.get(op.table)
        if rule is None:
            return refused(f"{op.table}: not something the hub keeps")
        try:
            hlcmod.Stamp.parse(op.hlc)
            record = _canonical(op.table, op.payload)
        except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            return refused(f"{op.table}: the change could not be read ({exc})")
        if record.id != op.row_id:
            return refused(f"{op.table}: the change names two different records")
        data = _plain(record)
        reason = _nul_refusal(op, data)
        if reason:
            return refused(reason)
        # A desktop that restamped its pending changes (its clock was ahead) sends them with new
        # stamps while its copy keeps the old one: such a copy is never the version the hub keeps.
        as_held = data.get("hlc") == op.hlc and bool(data.get("deleted")) == (op.kind == "delete" or bool(record.deleted))
        deleted = op.kind == "delete" or bool(record.deleted)
        data["hlc"], data["deleted"] = op.hlc, deleted
        if (op.table, op.row_id) in tx.memo.get("purged", ()):
            return refused(f"{op.table}: this record was deleted on the hub; the change cannot bring it back")
        current = self._load(tx, op.table, op.row_id)
        principal = who.principal
        grant = spec.grants.get(op.table) if spec else None
        if spec is not None and deleted:
            return refused(f"{op.table}: an {spec.action.label} does not delete records")
        if current is not None and not _sees(principal, current.audience) and not (
                grant is not None and grant.claims and _unallocated(current.data)):
            return refused(f"{op.table}: this record is not in your caseload or region, so your change was not accepted")
        reason = may_write(rule, Writer(who.user_id, who.role), current.hub_row() if current else None, data,
                           grant=grant, action=spec.action.label if spec else "", changed=op.changed)
        if reason:
            return refused(reason)
        held = current.data if current else None
        needed = None if spec else required_action(op.table, held, data)
        if needed is not None and who.role is Role.FIELD_OFFICER:
            return refused(f"{op.table}: an {needed.label} is recorded as one unit, with its devices and order "
                           "(the pairing wizard does this): this change alone was not accepted")
        reason = authorship.forged(op.table, who.user_id, who.device_id, held, data)
        if reason:
            return refused(reason)
        clock = datetime.fromtimestamp(now / 1000, timezone.utc)
        agency_outcome = op.table == "outcomes" and who.role in AGENCIES
        if agency_outcome:
            # An agency holds no orders or incidents: its outcome is judged against the pack
            # issued to it, which names them, and by the rules its desktop keeps (an outcome is
            # a whole row: last writer wins), before the hub settles its times.
            packs = self._pack_versions(tx, data.get("order_id"), data.get("pack_id"))
            reason = (authorship.outcome_refusal(who.principal, data, packs)
                      or authorship.outcome_change_refusal(who.user_id, held, data, packs, clock))
            if reason:
                return refused(reason)
        sent = dict(data) if as_held else None      # the version the desktop holds (the hub may settle fields)
        data = authorship.settle(op.table, who.user_id, who.device_id, held, data, clock)
        effective = self._effective(rule, current, data, op.changed)
        if not agency_outcome:
            reason = self._references(tx, who, op.table, current, effective)
            if reason:
                return refused(reason)
        if op.table == "visits" and grant is None:
            order = self._load(tx, "orders", effective.get("order_id") or "")
            reason = visit_booking(Writer(who.user_id, who.role), held, effective,
                                   order.officer if order is not None else None)
            if reason:
                return refused(reason)
        after = self._audience(tx, op.table, effective, self._batch_cases(tx, who, op, batch))
        if not _sees(principal, after) and not self._leaves_by_design(rule, grant, who, held, effective):
            what = "would be outside" if current is None else "would move it out of"
            return refused(f"{op.table}: this change {what} your caseload or region, so it was not accepted "
                           "(a supervisor can move a case)")
        stamp = op.hlc
        if spec is not None:
            stamp = data["hlc"] = self._hub_stamp(current)
        if current is None:
            tx.memo.setdefault("created", set()).add((op.table, op.row_id))
        return self._decide(tx, rule, op.table, op.row_id, data, stamp, deleted, op.changed, current, now,
                            op_id=op.op_id, restores=restores, device=who.device_id, cursor=cursor,
                            sent=(sent, tx.memo["pusher"]) if sent is not None else None)

    def _references(self, tx: Tx, who: Account, table: str, current: _Row | None, effective: dict) -> str | None:
        """A change may only point a record at people, orders and incidents the writer may hold
        (checked where it sets or moves a reference), and a record's person is its order's."""
        order, moved = None, current is None
        for name, target in REFERENCES.get(table, ()):
            value = effective.get(name)
            if not value:
                continue
            row = self._load(tx, target, value)
            if target == "orders":
                order = row
            if current is not None and current.data.get(name) == value:
                continue
            moved = True
            noun = {"subjects": "person", "orders": "order", "incidents": "incident"}[target]
            if row is None:
                return f"{table}: the {noun} it is for is not on the hub, so the change was not accepted"
            if not _sees(who.principal, row.audience) and (target, value) not in tx.memo.get("created", ()):
                # (A person made in this same push arrives with the orders naming them: they are
                # judged with their case when they are written, and have no other case to leak.)
                return (f"{table}: {name} names a {noun} outside your caseload or region, so the change was "
                        "not accepted")
        person = effective.get("subject_id")
        if moved and order is not None and person and order.data.get("subject_id") not in (None, "", person):
            return f"{table}: the person named is not the person of its order, so the change was not accepted"
        return None

    @staticmethod
    def _leaves_by_design(rule: TableRule, grant: Grant | None, who: Account, held: dict | None, after: dict) -> bool:
        """Changes that take a row out of the writer's scope by the scope rules themselves: kit
        released to stock by a removal, a booked officer finishing a visit on a colleague's case."""
        if grant is not None and grant.releases:
            return True
        owner = rule.owner_field
        return bool(owner and held is not None and held.get(owner) == who.user_id and after.get(owner) == who.user_id)

    def _batch_cases(self, tx: Tx, who: Account, op: p.Op, batch: list[p.Op]) -> dict[str, tuple[str | None, CaseLink]]:
        """For a new subject: the orders in the same batch that will link it (subjects go first, so
        a case opened on a desktop, person and order together, is judged with its order)."""
        if op.table != "subjects":
            return {}
        by_subject = tx.memo.get("batch_orders")
        if by_subject is None:           # the batch's orders, read once per push
            by_subject = tx.memo["batch_orders"] = {}
            for other in batch:
                if other.table != "orders" or NUL_ESCAPE in other.payload:
                    continue          # (one that may hold a NUL is judged on its own, and vouches for nothing)
                try:
                    order = msgspec.to_builtins(_canonical("orders", other.payload))
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                if order.get("id") == other.row_id:
                    held = self._load(tx, "orders", other.row_id)
                    sid, link = self._order_link(order, held.visitors if held is not None else frozenset())
                    by_subject.setdefault(sid, {})[other.row_id] = link
        out: dict[str, tuple[str | None, CaseLink]] = {}
        for order_id, link in by_subject.get(op.row_id, {}).items():
            current = self._load(tx, "orders", order_id)
            if current is not None and not _sees(who.principal, current.audience):
                continue     # an order this user may not touch does not vouch for anything
            out[order_id] = (op.row_id, link)
        return out

    def _decide(self, tx: Tx, rule, tbl: str, rid: str, data: dict, stamp: str, deleted: bool,
                changed: list[str] | None, current: _Row | None, now: int, *, op_id: str = "",
                restores: dict | None = None, device: str = "hub", cursor: int | None = None,
                sent: tuple[dict, tuple[str, ...]] | None = None) -> p.OpResult:
        """``sent``: the pushed version as its desktop holds it, and that desktop's principals;
        a new row identical to it is not sent back to that desktop."""
        decision = merge(rule, current.hub_row() if current else None, data, stamp, deleted=deleted, changed=changed)
        seq = 0
        if decision.row is not None:
            row = decision.row
            origin = None
            # Only a new row: the feed's last word on a row is what a desktop applies, so an
            # edit must come back even as sent, lest an earlier change to the row the desktop has
            # not pulled yet (an installation the hub restamped) be the last it sees.
            if sent is not None and current is None and tx.memo.get("echo_free") and row.hlc == sent[0].get("hlc") \
                    and bool(row.deleted) == bool(sent[0].get("deleted")) \
                    and {**row.data, "hlc": row.hlc, "deleted": row.deleted} == sent[0]:
                origin = (device, sent[1])
            seq = self._write(tx, tbl, rid, row.data, row.hlc, row.field_hlcs, row.deleted, now, current, device,
                              origin)
        elif restores is not None and current is not None and current.data != data:
            restores[(tbl, rid)] = None
        if cursor is not None:     # pushed ops only; loading records keeps no conflicts
            for loser in decision.losers:
                if self._concurrent(loser, stamp, current, device, cursor):
                    self._conflict(tx, tbl, rid, loser, now)
        return p.OpResult(op_id=op_id, status=decision.status, reason=decision.reason, hub_seq=seq)

    @staticmethod
    def _concurrent(loser, stamp: str, current: _Row | None, device: str, cursor: int) -> bool:
        """Is a merge loser a real conflict?  The pushed value losing always is (its writer had
        not seen the newer one, or its stamp would be newer).  A held value beaten by the push
        is one only if the pusher had not seen it: written by another device after the hub
        seq the pusher had pulled to.  Otherwise it is an ordinary later edit."""
        if loser.hlc == stamp or current is None:
            return True
        seq, writer = (current.field_meta.get(loser.field) or [0, ""])[:2]
        return seq > cursor and writer != device

    def _send_back(self, tx: Tx, principal: str, keys: list[tuple[str, str]], now: int) -> None:
        """The hub's version (or an eviction) of rows whose push did not stick, to the writer."""
        if not keys:
            return
        ups, gone = [], []
        for tbl, rid in keys:
            row = self._load(tx, tbl, rid)
            if row is not None and _sees(principal, row.audience):
                ups.append(row)
            else:
                gone.append((tbl, rid))
        events = [self._upsert_event([principal], r.tbl, r.id, r.text, r.hlc, r.deleted)
                  for r in sorted(ups, key=lambda r: (RANK[r.tbl], r.id))]
        events += [_Event([principal], "evict", tbl, rid)
                   for tbl, rid in sorted(gone, key=lambda k: (RANK[k[0]], k[1]), reverse=True)]
        self._emit(tx, events, now)

