"""Sign-in, refresh-token rotation and revocation, on both hub back ends; and on
PostgreSQL, what the hub role itself can and cannot reach."""
from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from synckit import HUB_ROLE, NOW, OFFICER, SUPERVISOR, ASGIClient, HubKit, make_hub, new_pg_database

from emdesk.domain.clock import FixedClock
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.client import REFRESH
from emdesk.sync.errors import HubRefused, HubUnreachable
from emdesk.sync.hub import HubError, create_app
from emdesk.sync.hub.credentials import AUTH_TABLES, token_hash
from emdesk.sync.hub.postgres import init_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def auth(request, tmp_path, small_world):
    """A loaded hub as its hub process sees it (``kit``), and the same database as its
    owner / administrator sees it (``admin``)."""
    if request.param == "sqlite":
        url = owner = str(tmp_path / "hub.db")
    else:
        owner, url = new_pg_database(request.getfixturevalue("pg_cluster"))
    clock = FixedClock(NOW)
    hub = make_hub(url, clock)
    hub.load(small_world.users, small_world.records())
    admin = make_hub(owner, clock)
    app = create_app(hub)
    kit = HubKit(hub, app, clock, small_world, tmp_path, ASGIClient(app))
    kit.backend, kit.owner, kit.url = request.param, owner, url
    yield kit, admin
    for desk in kit.desks:
        desk.store.close()
    kit.http.close()
    hub.storage.close()
    admin.storage.close()


def _refresh(hub, device_id: str, token: str) -> p.TokenResponse:
    return hub.token(p.TokenRequest(device_id=device_id, refresh_token=token, schema_version=LATEST))


def _device(admin, device_id: str):
    return next(d for d in admin.devices() if d.device_id == device_id)


# -- revocation ---------------------------------------------------------------------------


def test_a_revoked_desktop_stays_revoked_until_an_administrator_re_enrols_it(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    device = desk.store.desktop_id
    revoked = admin.revoke_device(device)
    assert revoked.revoked and revoked.username == OFFICER and revoked.user_id == desk.user.id
    with pytest.raises(HubRefused, match="revoked"):
        desk.sync()                                            # its tokens stopped at once
    # The password does not bring it back (it used to, and cleared the revocation).
    with pytest.raises(HubRefused, match="until an administrator re-enrols it") as refused:
        desk.client.register(OFFICER, desk.password)
    assert refused.value.code == "device_revoked"
    assert _device(admin, device).revoked
    with pytest.raises(HubRefused):
        desk.sync()
    # Re-enrolled: the old tokens are forgotten, the password signs it in again.
    assert not admin.enrol_device(device).revoked
    with pytest.raises(HubRefused):
        desk.sync()
    desk.client.register(OFFICER, desk.password)
    assert desk.sync().cursor == kit.hub.head()
    assert admin.revoke_device("no-such-desktop") is None and admin.enrol_device("no-such-desktop") is None


def test_the_device_list_says_who_when_and_whether_revoked(auth):
    kit, admin = auth
    officer, boss = kit.desk(OFFICER), kit.desk(SUPERVISOR)
    kit.clock.advance(timedelta(minutes=5))
    officer.sync()
    admin.revoke_device(boss.store.desktop_id)
    listed = {d.device_id: d for d in admin.devices()}
    assert listed[officer.store.desktop_id].username == OFFICER
    assert listed[officer.store.desktop_id].name == f"{OFFICER}'s laptop"
    assert not listed[officer.store.desktop_id].revoked and listed[boss.store.desktop_id].revoked
    assert listed[officer.store.desktop_id].last_seen_ms == kit.hub.now_ms()


# -- refresh rotation ---------------------------------------------------------------------------


def test_refresh_tokens_rotate_and_the_desktop_keeps_the_new_one(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    first = desk.store.sync_value(REFRESH)
    kit.clock.advance(timedelta(hours=1))                 # the access token expired
    desk.client._token_deadline = float("inf")            # ... and the client learns it from the hub
    desk.sync()
    second = desk.store.sync_value(REFRESH)
    assert second and second != first
    kit.clock.advance(timedelta(hours=1))
    desk.client._token = None
    desk.sync()
    assert desk.store.sync_value(REFRESH) not in (first, second)
    assert not _device(admin, desk.store.desktop_id).revoked


def test_reusing_a_rotated_out_refresh_token_revokes_the_desktop(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    stolen = desk.store.sync_value(REFRESH)
    desk.client._token = None
    desk.sync()                                           # rotated: the desktop holds the successor
    kit.clock.advance(timedelta(minutes=3))               # past the grace for a lost answer
    with pytest.raises(HubError) as caught:
        _refresh(kit.hub, desk.store.desktop_id, stolen)
    assert caught.value.status == 401 and caught.value.code == "refresh_reused"
    assert _device(admin, desk.store.desktop_id).revoked
    # The whole chain: the honest desktop's current tokens stop too.
    desk.client._token = None
    with pytest.raises(HubRefused, match="revoked"):
        desk.sync()


def test_a_lost_answer_is_forgiven_once_within_the_grace(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    device, held = desk.store.desktop_id, desk.store.sync_value(REFRESH)
    # The hub rotates, but the answer never reaches the desktop.
    lost = kit.http.fail
    kit.http.fail = lambda path, phase: path == "/v1/token" and phase == "after"
    desk.client._token = None
    with pytest.raises(HubUnreachable):
        desk.sync()
    kit.http.fail = lost
    assert desk.store.sync_value(REFRESH) == held
    kit.clock.advance(timedelta(seconds=90))
    desk.sync()                                           # the same token once more: rotated again
    assert desk.store.sync_value(REFRESH) != held and not _device(admin, device).revoked
    # But only once: a third use of it is a reuse.
    with pytest.raises(HubError, match="revoked the desktop"):
        _refresh(kit.hub, device, held)
    assert _device(admin, device).revoked


def test_the_grace_ends_once_the_successor_was_used(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    device, old = desk.store.desktop_id, desk.store.sync_value(REFRESH)
    successor = _refresh(kit.hub, device, old).refresh_token
    _refresh(kit.hub, device, successor)                  # the successor was used
    with pytest.raises(HubError, match="revoked the desktop"):
        _refresh(kit.hub, device, old)                    # within seconds, but no longer a lost answer
    assert _device(admin, device).revoked


def test_a_lost_successor_presented_later_revokes(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    device, old = desk.store.desktop_id, desk.store.sync_value(REFRESH)
    lost = _refresh(kit.hub, device, old).refresh_token   # never arrived...
    _refresh(kit.hub, device, old)                        # ... so the old one was presented again
    with pytest.raises(HubError, match="revoked the desktop"):
        _refresh(kit.hub, device, lost)                   # someone else had it
    assert _device(admin, device).revoked


def test_unknown_tokens_are_refused_without_revoking_anyone(auth):
    kit, admin = auth
    desk = kit.desk(OFFICER)
    with pytest.raises(HubError) as caught:
        _refresh(kit.hub, desk.store.desktop_id, "made-up")
    assert caught.value.code == "unauthorised" and not _device(admin, desk.store.desktop_id).revoked
    with pytest.raises(HubError, match="did not accept"):
        kit.hub.authenticate("made-up")


def test_unknown_names_get_parameters_like_real_ones(auth):
    kit, _ = auth
    creds = kit.hub.storage.credentials
    real = creds.begin_sign_in(OFFICER, "10.0.0.1", kit.hub.now_ms())
    fake = creds.begin_sign_in("no.such.person", "10.0.0.1", kit.hub.now_ms())
    again = creds.begin_sign_in("no.such.person", "10.0.0.1", kit.hub.now_ms())
    assert fake.status == real.status == "ok"
    assert fake.params == again.params                                      # stable: no tell
    assert fake.params.rsplit("$", 1)[0] == real.params.rsplit("$", 1)[0]   # same costs, same time
    assert fake.hash_len == real.hash_len and fake.params != real.params
    with pytest.raises(HubError, match="wrong password"):
        kit.hub.token(p.TokenRequest(device_id="d", username="no.such.person", password="x", schema_version=LATEST))


# -- PostgreSQL: the hub role ---------------------------------------------------------------------


@pytest.fixture
def pg_auth(pg_cluster, small_world, tmp_path):
    owner, url = new_pg_database(pg_cluster)
    clock = FixedClock(NOW)
    hub = make_hub(url, clock)
    hub.load(small_world.users, small_world.records())
    yield hub, owner, url
    hub.storage.close()


def test_the_hub_role_cannot_read_secrets_nor_get_a_session_without_the_password(pg_auth, small_world):
    hub, owner, url = pg_auth
    user, password = next((u, pw) for u, pw in small_world.users if u.username == OFFICER)
    answer = hub.token(p.TokenRequest(device_id="laptop", username=OFFICER, password=password,
                                      schema_version=LATEST))
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "emdesk_hub"
        for table in AUTH_TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {table}")
            conn.rollback()
        # Its own desktop rows hold no secret, and it may not lift a revocation through them.
        columns = {r[0] for r in conn.execute("SELECT * FROM hub_devices LIMIT 0").description}
        assert not any("hash" in c or "token" in c for c in columns)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE hub_devices SET revoked = 0")
        conn.rollback()
        for call in ("SELECT emdesk_auth_set_password(%s, %s, 'x', 0)", "SELECT * FROM emdesk_auth_enrol(%s)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(call, [user.id, OFFICER][:call.count("%s")])
            conn.rollback()
        # Without the password: no argon2 it can compute matches, and no session appears.
        begin = conn.execute("SELECT * FROM emdesk_auth_begin(%s, 'evil', 0)", [OFFICER]).fetchone()
        assert begin[0] == "ok" and begin[1].count("$") == 4             # parameters and salt only
        forged = conn.execute("SELECT * FROM emdesk_auth_check(%s, %s, 'evil', 'evil-desk', 'x', %s, %s, 0, %s)",
                              [OFFICER, begin[1] + "$AAAA", token_hash("a"), token_hash("r"), 2**62]).fetchone()
        assert forged[0] == "wrong"
        assert conn.execute("SELECT status FROM emdesk_auth_session(%s, 0)", [token_hash("a")]).fetchone()[0] == \
            "unknown"
        # Nor by giving the account a password of its own choosing: an existing one stays.
        assert conn.execute("SELECT emdesk_auth_add_account(%s, %s, %s, 0)",
                            [user.id, OFFICER, begin[1] + "$AAAA"]).fetchone()[0] is False
        # What it holds in transit works: the token the desktop was given.
        assert conn.execute("SELECT status, user_id FROM emdesk_auth_session(%s, %s)",
                            [token_hash(answer.access_token), hub.now_ms()]).fetchone() == ("ok", user.id)
        conn.commit()
        # What row-level security does not stop: the hub role may declare itself 'all'.
        conn.execute("SELECT set_config('emdesk.principal', 'all', true)")
        assert conn.execute("SELECT count(DISTINCT case_region) FROM hub_rows WHERE tbl = 'orders'").fetchone()[0] > 1
    assert hub.token(p.TokenRequest(device_id="laptop-2", username=OFFICER, password=password,
                                    schema_version=LATEST)).user.id == user.id
    # The owner alone sets passwords and re-enrols.
    admin = make_hub(owner, hub.clock)
    try:
        with pytest.raises(Exception, match="owner"):
            hub.set_password(user, "new password")
        admin.set_password(user, "new password")
        assert hub.token(p.TokenRequest(device_id="laptop-3", username=OFFICER, password="new password",
                                        schema_version=LATEST)).user.id == user.id
        with pytest.raises(Exception, match="owner"):
            hub.enrol_device("laptop")
    finally:
        admin.storage.close()


# -- a hub made before tokens rotated -------------------------------------------------------------

OLD_DEVICES = ("CREATE TABLE hub_devices (device_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, "
               "refresh_hash TEXT NOT NULL, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, cursor BIGINT, "
               "revoked INTEGER NOT NULL DEFAULT 0, last_device_seq BIGINT NOT NULL DEFAULT 0)")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_desktops_of_an_older_hub_stay_signed_in(backend, request, tmp_path, small_world):
    user = next(u for u, _ in small_world.users if u.username == OFFICER)
    row = ["old-desk", user.id, "old laptop", token_hash("old-refresh"), 0, 0]
    insert = "INSERT INTO hub_devices (device_id, user_id, name, refresh_hash, created_ms, last_seen_ms) VALUES "
    if backend == "sqlite":
        url = str(tmp_path / "hub.db")
        with sqlite3.connect(url) as conn:
            conn.execute(OLD_DEVICES)
            conn.execute(insert + "(?, ?, ?, ?, ?, ?)", row)
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(cluster.owner_dsn_for("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        cluster.created.append(name)
        with psycopg.connect(cluster.owner_dsn_for(name)) as conn:
            conn.execute(OLD_DEVICES)
            conn.execute(insert + "(%s, %s, %s, %s, %s, %s)", row)
        init_postgres(cluster.owner_dsn_for(name), HUB_ROLE)
        url = cluster.hub_dsn_for(name)
    hub = make_hub(url, FixedClock(NOW))
    try:
        hub.load(small_world.users, small_world.records())
        answer = _refresh(hub, "old-desk", "old-refresh")
        assert answer.user.username == OFFICER and answer.refresh_token != "old-refresh"
        assert hub.authenticate(answer.access_token).device_id == "old-desk"
        with hub.storage.bookkeeping() as tx:
            columns = [d[0] for d in tx.execute("SELECT * FROM hub_devices LIMIT 0").description]
        assert "refresh_hash" not in columns
    finally:
        hub.storage.close()


def test_first_sign_ins_of_one_desktop_at_once_enrol_it_once(auth):
    kit, admin = auth
    _, password = kit.user(OFFICER)
    barrier, answers, errors = threading.Barrier(4), [], []

    def sign_in():
        barrier.wait()
        try:
            answers.append(kit.hub.token(p.TokenRequest(device_id="new-desk", username=OFFICER, password=password,
                                                        schema_version=LATEST)))
        except BaseException as exc:      # surfaced below
            errors.append(exc)
    threads = [threading.Thread(target=sign_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(answers) == 4
    assert [d.device_id for d in admin.devices()].count("new-desk") == 1
    # Each sign-in started the desktop's chain afresh: exactly one refresh token is live.
    live = 0
    for answer in answers:
        try:
            live += _refresh(kit.hub, "new-desk", answer.refresh_token).user.username == OFFICER
        except HubError as exc:
            assert exc.code == "unauthorised"
    assert live == 1 and not _device(admin, "new-desk").revoked


def test_requests_at_once_on_a_run_out_sign_in_refresh_it_once(auth):
    """A first sync asks for events while its records load: both may find the access token run
    out.  One refresh serves both; two would present one refresh token twice, and the third
    (past the grace for a lost answer) revokes the desktop."""
    kit, admin = auth
    desk = kit.desk(SUPERVISOR)
    kit.clock.advance(timedelta(hours=1))                 # the access token expired
    desk.client._token_deadline = float("inf")            # ... and the client learns it from the hub
    before = desk.store.sync_value(REFRESH)
    start, answers, errors = threading.Barrier(4), [], []

    def ask():
        start.wait()
        try:
            answers.append(desk.client.hub_audit_anchor())
        except Exception as exc:         # noqa: BLE001 - the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(answers) == 4
    assert desk.store.sync_value(REFRESH) != before
    assert not _device(admin, desk.store.desktop_id).revoked
    with admin.storage.read("all") as tx:
        issued = tx.scalar("SELECT count(*) FROM hub_refresh_tokens WHERE device_id = ?", [desk.store.desktop_id])
    assert issued == 2                                     # the one it joined with, and one successor
    desk.sync()
