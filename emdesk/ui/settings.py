"""Where the window remembers its geometry and last tab.

Always INI in the user scope, so tests can point ``QSettings.setPath`` at a temporary
folder and never read or write the developer's own settings.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANISATION = "emdesk"
APPLICATION = "emdesk"


def app_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)
