"""``emdesk packs verify FILE [--db PATH]``: does a pack file still say what it said?

Exit 0 when it matches, 1 when it does not (one line per difference, on stdout), 2 when
the command cannot run (no such file, no store).  Output is a contract.
"""
from __future__ import annotations

from pathlib import Path

from .errors import CommandError

HELP = ("check a breach pack file (PDF or JSON) against its own SHA-256, or with --db against the hash the "
        "store recorded for that pack version")
DESCRIPTION = (
    "Exit 0 when FILE matches, 1 when it does not (each difference on its own line), 2 when it cannot be "
    "checked (no such file or store). A PDF's SHA-256 covers every byte of the file (with the hash's own "
    "hex read as zeros), so any edit, appended update or truncation shows. A JSON's sha256 field covers "
    "its canonical form (RFC 8785) without that field: changed, added or removed values show, while "
    "reformatting that keeps the same content (whitespace, key order) still verifies. With --db PATH the "
    "file must also match the hash that store recorded for its pack version (an unknown pack or version "
    "does not match).")


def verify(args, prompt) -> int:
    # Imported here: the parser reads this module's help text on every emdesk command.
    from emdesk.services.pack_files import recorded_in, verify_file

    from .wiring import _open, make_clock

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"FILE: no file at {path}: give a pack's .pdf or .json file")
    recorded = None
    store = None
    if args.db:
        from emdesk.store.keyring import keyring_path
        if not Path(args.db).is_file():
            raise CommandError(f"--db: no store at {args.db}: give the store the pack was built in")
        if not keyring_path(Path(args.db)).exists():
            raise CommandError(f"--db: {args.db} is not an emdesk store (it has no key file beside it): give the "
                               "store the pack was built in")
        store = _open(Path(args.db), args.user, prompt, make_clock())
        recorded = recorded_in(store)
    try:
        verdict = verify_file(path, recorded)
    finally:
        if store is not None:
            store.close()
    what = f"pack {verdict.pack_id} v{verdict.version}" if verdict.pack_id else "an unknown pack"
    if verdict.ok:
        against = "the store's record" if recorded else "its embedded hash"
        print(f"{path}: OK: {verdict.kind.upper()} of {what} matches {against} (SHA-256 {verdict.sha256})")
        return 0
    for problem in verdict.problems:
        print(f"{path}: DIFFERS: {problem}")
    return 1
