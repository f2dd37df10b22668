"""The Qt desktop interface: the only package that imports PySide6.

It talks to ``emdesk.services`` and reads domain types; it never touches the store.
"""
