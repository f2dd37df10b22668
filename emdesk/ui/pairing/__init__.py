"""Pairing a tag to its home unit from the desktop, and where it shows in the app.

- ``wizard``        ``PairingWizard``: the flow, connect -> pair step by step -> record
- ``connect_page``, ``pair_page``, ``record_page``: its three pages
- ``jobs``          ``PairingJob``: what differs between an install visit and the bench
- ``steps``         the procedure's steps as rows; ``describe``: conditions and devices in words
- ``runner``        ``PairingRunner``: one pairing on the session's device lane, as Qt signals
- ``ports``         ``PortPicker``: the ports found, or one typed in (``socket://...``)
- ``keys``          ``manufacturer_key(ctx)``: the key file, or the emulator's on the demo
- ``actions``       Today's "Pair devices…" and the Devices menu
"""
from .actions import add_pairing_actions, open_pairing_for_visit

__all__ = ["add_pairing_actions", "open_pairing_for_visit"]
