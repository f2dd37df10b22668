"""``emdesk packs build``: a breach pack's PDF and JSON from an incident (escalated by the
command when it is still open: asking for the pack is that decision).

Prints the PDF's path then the JSON's, one a line (a contract scripts read).  Building
again with unchanged evidence writes the same version's files again, byte for byte.
Errors name the argument and what to do, and leave no file behind.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from emdesk import paths
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.users import Permission, Role
from emdesk.services.errors import ServiceError
from emdesk.services.incidents import IncidentService
from emdesk.services.pack_json import PackFileError
from emdesk.services.pack_map import MapImage
from emdesk.services.packs import PackService
from emdesk.store import Store
from emdesk.store.keyring import keyring_path

from .errors import CommandError
from .wiring import Prompt, _acting_user, _open, make_clock


def _map_image(store: Store, user, clock) -> MapImage | None:
    """The desktop's own map, drawn headless (offscreen when there is no display); None
    when this installation cannot draw it (the pack then says why it has no map)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from emdesk.ui.maps.snapshot import map_image_for
    except ImportError:          # no Qt / WebEngine here, or the snapshot renderer is not installed
        return None
    try:
        return map_image_for(store, user, clock)
    except Exception:            # a map that cannot start must not stop the pack: it carries a note instead
        return None


def packs_build(args, prompt: Prompt) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out: {out} is a file; give a directory for the pack's PDF and JSON")
    path = Path(args.db or paths.default_store())
    if not path.exists():
        raise CommandError(f"--db: no store at {path}: give the store holding the incident "
                           f"(`emdesk demo` or `emdesk init --db {path}` makes one)")
    if not keyring_path(path).exists():
        raise CommandError(f"--db: {path} is not an emdesk store (it has no key file beside it): give the store "
                           "the incident is in")
    clock = make_clock()
    store = _open(path, args.user, prompt, clock)
    try:
        user = _acting_user(store, args.user, Role.SUPERVISOR)
        if not user.can(Permission.BUILD_PACKS):
            raise CommandError(f"--user: {user.username} is a {user.role.label.lower()} account; breach packs are "
                               "built by a monitoring operator or a supervisor: give one of theirs")
        incident = store.get(Incident, args.incident_id)
        if incident is None:
            raise CommandError(f"INCIDENT_ID: no incident {args.incident_id} in {path}; "
                               f"`emdesk incidents --db {path}` lists them (the id is the last column)")
        if incident.status in (IncidentStatus.CLOSED, IncidentStatus.AUTO_CLOSED):
            raise CommandError(f"INCIDENT_ID: incident {incident.id} is {incident.status.value.replace('_', ' ')} "
                               "(judged not a breach); reopen it in the monitoring queue (R) if it is one, "
                               "then build its pack")
        try:
            # All or nothing: the escalation, the pack and its files; a build or a write that
            # fails leaves the incident as it was and no pack behind.
            with store.transaction():
                pdf, document = _escalate_build_write(store, user, clock, incident, out)
        except (ServiceError, PackFileError) as exc:
            raise CommandError(str(exc)) from exc
    finally:
        store.close()
    print(pdf)
    print(document)
    return 0


def _escalate_build_write(store: Store, user, clock, incident: Incident, out: Path) -> tuple[Path, Path]:
    escalated = False
    if incident.status is not IncidentStatus.ESCALATED:
        # Asking for the pack is the decision that it is a breach: recorded as an escalation
        # under the acting user's name, as the queue's E would.
        IncidentService(store, user, clock).escalate(
            incident.id, f"breach pack built with `emdesk packs build` by {user.username}")
        escalated = True
    service = PackService(store, user, clock, map_image=_map_image(store, user, clock))
    pack = service.build([incident.id])
    files = service.write(pack.id, out)
    if escalated:
        print(f"emdesk: incident {incident.id} was {incident.status.value}: escalated by {user.username}; "
              "the pack's deadline runs", file=sys.stderr)
    return files
