"""Styling by dynamic property: the look lives in the QSS file, the code only says which."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


def set_prop(widget: QWidget, name: str, value) -> None:
    """Set a property the style sheet selects on (``[tone="bad"]``) and restyle."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    # Dynamic properties only restyle once the style is re-applied.
    widget.style().unpolish(widget)
    widget.style().polish(widget)
