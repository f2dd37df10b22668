"""The sync hub: engine, storages and the HTTP app.

    storage = open_storage("hub.db")                  # or "postgresql://emdesk_hub@host/db"
    hub = Hub(storage, clock=...)                     # clock injectable
    app = create_app(hub)                             # Starlette; serve with uvicorn
"""
from .app import create_app
from .accounts import Account, HubError
from .engine import Hub
from .storage import HubStorage, SQLiteHubStorage, StorageUnavailable, open_storage


def __getattr__(name: str):
    if name in ("PostgresHubStorage", "init_postgres"):
        from . import postgres
        return getattr(postgres, name)
    raise AttributeError(name)


__all__ = ["Account", "Hub", "HubError", "HubStorage", "PostgresHubStorage", "SQLiteHubStorage",
           "StorageUnavailable", "create_app", "init_postgres", "open_storage"]
