"""PostgreSQL row-level security: the hub role itself cannot read outside a principal's scope."""
from __future__ import annotations

import psycopg
import pytest
from synckit import NOW, make_hub, new_pg_database

from emdesk.domain.clock import FixedClock
from emdesk.sync.hub.postgres import init_postgres


@pytest.fixture
def loaded_pg(pg_cluster, small_world):
    owner, hub_dsn = new_pg_database(pg_cluster)
    hub = make_hub(hub_dsn, FixedClock(NOW))
    hub.load(small_world.users, small_world.records())
    hub.storage.close()
    return owner, hub_dsn


def _count(conn, sql, args=()):
    return conn.execute(sql, args).fetchone()[0]


def test_a_region_principal_sees_no_other_regions_rows(loaded_pg):
    owner, hub_dsn = loaded_pg
    with psycopg.connect(hub_dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "emdesk_hub"
        # No principal set: nothing at all.
        assert _count(conn, "SELECT count(*) FROM hub_rows") == 0
        assert _count(conn, "SELECT count(*) FROM change_log") == 0
        conn.rollback()
        conn.execute("SELECT set_config('emdesk.principal', 'region:Wales', true)")
        assert _count(conn, "SELECT count(*) FROM hub_rows WHERE tbl = 'orders' AND case_region = 'Wales'") > 0
        assert _count(conn, "SELECT count(*) FROM hub_rows WHERE tbl = 'orders' AND case_region = 'London'") == 0
        assert _count(conn, "SELECT count(*) FROM hub_rows WHERE tbl = 'orders' AND case_region <> 'Wales'") == 0
        assert _count(conn, "SELECT count(*) FROM change_log") > 0
        assert _count(conn, "SELECT count(*) FROM change_feed WHERE principal = 'region:London'") == 0
        # Every log entry it sees is one its feed (or everyone's) names.
        assert _count(conn, "SELECT count(*) FROM change_log c WHERE NOT EXISTS (SELECT 1 FROM change_feed f "
                            "WHERE f.seq = c.seq AND f.principal IN ('region:Wales', '*'))") == 0
        assert _count(conn, "SELECT count(*) FROM row_audience WHERE principal = 'region:London'") == 0
        assert _count(conn, "SELECT count(*) FROM hub_rows WHERE tbl = 'users'") > 0    # addressed to everyone
        conn.rollback()
    # The owner (no RLS for it) sees that London rows do exist.
    with psycopg.connect(owner) as conn:
        assert _count(conn, "SELECT count(*) FROM hub_rows WHERE tbl = 'orders' AND case_region = 'London'") > 0


def test_the_hub_role_cannot_write_outside_write_mode_nor_lift_the_policies(loaded_pg):
    owner, hub_dsn = loaded_pg
    with psycopg.connect(hub_dsn) as conn:
        conn.execute("SELECT set_config('emdesk.principal', 'region:Wales', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO change_log (seq, tbl, row_id, kind, hlc, payload, at_ms) "
                         "VALUES (999999, 'notes', 'x', 'upsert', '', '{}', 0)")
        conn.rollback()
        conn.execute("SELECT set_config('emdesk.principal', 'region:Wales', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO change_feed (principal, seq) VALUES ('region:Wales', 1)")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE hub_rows DISABLE ROW LEVEL SECURITY")
        conn.rollback()
        # Write mode for an officer: updating a case that is not hers matches nothing.
        officer = conn.execute("SELECT set_config('emdesk.principal', 'all', true)").fetchone()
        london = conn.execute("SELECT id, case_officer FROM hub_rows WHERE tbl = 'orders' AND case_region = 'London' "
                              "LIMIT 1").fetchone()
        wales_officer = conn.execute("SELECT case_officer FROM hub_rows WHERE tbl = 'orders' "
                                     "AND case_region = 'Wales' LIMIT 1").fetchone()[0]
        conn.execute("SELECT set_config('emdesk.writer', %s, true)", [f"officer:{wales_officer}"])
        updated = conn.execute("UPDATE hub_rows SET hlc = hlc WHERE tbl = 'orders' AND id = %s", [london[0]]).rowcount
        assert officer and updated == 0
        conn.rollback()


def test_init_is_repeatable_and_refuses_a_hub_role_that_owns_the_tables(pg_cluster):
    owner, _ = new_pg_database(pg_cluster)
    assert init_postgres(owner, "emdesk_hub")        # again: policies replaced, nothing duplicated
    with psycopg.connect(owner) as conn:
        policies = _count(conn, "SELECT count(*) FROM pg_policies WHERE tablename = 'hub_rows'")
        assert policies == 5
    from emdesk.sync.hub.storage import StorageUnavailable
    with pytest.raises(StorageUnavailable, match="must not be the owner"):
        init_postgres(owner, "postgres")
