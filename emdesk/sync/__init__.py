"""Offline sync with the hub (sync work fills this in); drains the store's outbox."""
