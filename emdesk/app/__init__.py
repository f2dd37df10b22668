"""The composition root, in three parts:

- ``wiring``        open the store, build a session (``sign_in_callable``), start the GUI
- ``commands``      the body of each ``emdesk`` command (cli.py parses the arguments)
- ``sync_adapter``  the sync client behind the services' ``SyncPort``
- ``demo_printout`` how to pair on the demo world
- ``live_demo``     the demo's moving fleet: the simulator's days fed live into the store
- ``roles``, ``errors``: the ``--as`` role names; ``CommandError``

Imported lazily (names resolve on first use), so ``emdesk --help`` stays quick.
"""
from __future__ import annotations

import importlib

_WHERE = {
    "CommandError": "errors", "ROLES": "roles", "SyncAdapter": "sync_adapter",
    "make_clock": "wiring", "sign_in_callable": "wiring", "run_gui": "wiring", "_context": "wiring",
    "_open": "wiring", "_acting_user": "wiring",
    "demo": "commands", "init": "commands", "add_user": "commands", "import_orders": "commands",
    "audit_verify": "commands", "run_app": "commands", "sync_command": "commands",
    "demo_world_source": "commands", "build_demo_store": "commands",
    "pairing_example": "demo_printout", "_pairing_example": "demo_printout",
    "start_live_demo": "live_demo", "catch_up": "live_demo",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'emdesk.app' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"),
                    "pairing_example" if name == "_pairing_example" else name)
    globals()[name] = value
    return value


__all__ = sorted(_WHERE)
