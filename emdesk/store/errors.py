class StoreError(Exception):
    """A problem with the local store, worded for the person at the keyboard."""


class WrongSecret(StoreError):
    pass


class StoreLocked(StoreError):
    """The store is encrypted and no key was given."""
