"""PostgreSQL: a push's writes go to the database in pipeline mode while the rest of the push is
decided (``_PgTx``).  A write the database refuses part-way still refuses the push as a whole:
nothing of it is kept, the error is the database's own, and the hub's connections serve on."""
from __future__ import annotations

import msgspec
import psycopg
import psycopg.conninfo
import pytest
from synckit import NOW, OFFICER, SUPERVISOR

from emdesk.domain import hlc
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.hub.push import SEND_EVERY

BOOM = """
CREATE FUNCTION emdesk_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF strpos(NEW.data, 'boom') > 0 THEN RAISE EXCEPTION 'refused by the test trigger'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER emdesk_test_boom BEFORE INSERT ON hub_rows FOR EACH ROW EXECUTE FUNCTION emdesk_test_boom();
"""


def _ops(who, case: Order, texts: list[str]) -> list[p.Op]:
    ops = []
    for i, text in enumerate(texts):
        note = Note(subject_id=case.subject_id, order_id=case.id, author_id=who.user_id, at=NOW, text=text,
                    created_at=NOW, updated_at=NOW, hlc=str(hlc.Stamp(int(NOW.timestamp() * 1000), i, "desk")))
        ops.append(p.Op(op_id=f"{text}-{i}", device_seq=i + 1, table="notes", row_id=note.id, kind="upsert",
                        hlc=note.hlc, payload=msgspec.json.encode(note).decode()))
    return ops


def _notes(kit, prefix: str) -> int:
    with kit.hub.storage.read("all") as tx:
        return int(tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = 'notes' AND data LIKE ?", [f"%{prefix}%"]))


@pytest.mark.parametrize("hub_store", ["postgresql"], indirect=True)
def test_a_write_refused_mid_pipeline_refuses_the_whole_push_and_the_hub_serves_on(request, kit):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    case = next(o for o in officer.store.find(Order, order_by="id") if o.assigned_officer_id == officer.user.id)
    name = psycopg.conninfo.conninfo_to_dict(kit.hub.storage.dsn)["dbname"]
    owner = request.getfixturevalue("pg_cluster").owner_dsn_for(name)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(BOOM)
    who = kit.hub.authenticate(boss.client._access())
    # The bad row is in the second batch sent: the engine has gone on deciding when it fails.
    texts = [f"piped {i}" for i in range(3 * SEND_EVERY)]
    texts[SEND_EVERY + 10] = "piped boom"
    ops = _ops(who, case, texts)
    request_ = p.PushRequest(schema_version=LATEST, device_id=who.device_id, ops=ops)
    for _ in range(2):          # and again, on the same pooled connections
        with pytest.raises(psycopg.errors.RaiseException, match="refused by the test trigger"):
            kit.hub.push(who, request_)
        assert _notes(kit, "piped") == 0
    with kit.hub.storage.read("all") as tx:
        assert tx.scalar("SELECT count(*) FROM applied_ops WHERE op_id LIKE ?", ["piped%"]) == 0
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("DROP TRIGGER emdesk_test_boom ON hub_rows")
    answer = kit.hub.push(who, request_)
    assert {r.status for r in answer.results} == {"applied"}
    assert _notes(kit, "piped") == len(texts)
    assert officer.sync().pulled == len(texts)
