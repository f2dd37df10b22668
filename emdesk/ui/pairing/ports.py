"""Picking the serial port a device is on: the ports found, or one typed in by hand."""
from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QInputDialog,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from emdesk.devices.transport import PortCandidate, list_ports, manual_port

NONE = "(no port)"


class PortPicker(QWidget):
    """A combo box of ports (known cradle adapters first) with Refresh and "Add…".

    Ports typed by hand (``/dev/pts/7``, ``socket://10.0.0.5:4001``, ``COM7``) are kept
    for every picker in the session.  ``port()`` is the chosen device string or "".
    """

    changed = Signal(str)
    _manual: ClassVar[list[PortCandidate]] = []        # shared by all pickers

    def __init__(self, parent: QWidget | None = None, *, name: str = "ports", stacked: bool = False,
                 label: str = "Port"):
        super().__init__(parent)
        self.combo = QComboBox(objectName=name)
        self.combo.setAccessibleName(label)
        self.combo.setAccessibleDescription("The serial port or network cradle the device is on")
        self.combo.setMinimumWidth(220)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(24)
        self.refresh_button = QPushButton("Refresh", objectName=f"{name}Refresh")
        self.add_button = QPushButton("Add port…", objectName=f"{name}Add")
        self.add_button.setToolTip("A port that is not listed: /dev/ttyUSB0, COM7, socket://host:port")
        self.refresh_button.setAccessibleName(f"Refresh the list of ports ({label.lower()})")
        self.add_button.setAccessibleName(f"Add a port by hand ({label.lower()})")
        for button in (self.refresh_button, self.add_button):
            button.setAutoDefault(False)       # Enter starts the dialog's own action, not a refresh
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        if stacked:                            # narrow panels: the port on its own line
            grid.addWidget(self.combo, 0, 0, 1, 3)
            grid.addWidget(self.refresh_button, 1, 1)
            grid.addWidget(self.add_button, 1, 2)
            grid.setColumnStretch(0, 1)
        else:
            grid.addWidget(self.combo, 0, 0)
            grid.addWidget(self.refresh_button, 0, 1)
            grid.addWidget(self.add_button, 0, 2)
            grid.setColumnStretch(0, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.add_button.clicked.connect(self._ask)
        self.combo.currentIndexChanged.connect(lambda *_: self.changed.emit(self.port()))
        self.refresh()

    def refresh(self) -> None:
        keep = self.port()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NONE, "")
        for cand in list_ports(tuple(PortPicker._manual)):
            label = f"{cand.device} — added by hand" if cand.manual else cand.label
            self.combo.addItem(label, cand.device)
            self.combo.setItemData(self.combo.count() - 1, cand.label, Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)
        self.select(keep)

    def add(self, url: str) -> str:
        """Add a port by hand (kept for the session) and select it."""
        cand = manual_port(url)
        if all(m.device != cand.device for m in PortPicker._manual):
            PortPicker._manual.append(cand)
        self.refresh()
        self.select(cand.device)
        return cand.device

    def select(self, device: str) -> None:
        i = self.combo.findData(device)
        self.combo.setCurrentIndex(max(i, 0))
        self.changed.emit(self.port())

    def port(self) -> str:
        return self.combo.currentData() or ""

    def _ask(self) -> None:
        url, ok = QInputDialog.getText(self, "Add a port",
                                       "Port or address (e.g. /dev/ttyUSB0, COM7, socket://10.0.0.5:4001):")
        if ok and url.strip():
            self.add(url)
