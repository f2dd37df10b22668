"""Offline sync with the hub: drains the store's outbox, pulls the user's scope.

See README.md here.  The desktop uses ``emdesk.sync.client.SyncClient``; the hub is
``emdesk.sync.hub`` (engine, storages, Starlette app); command lines are in ``cli.py``.
"""
