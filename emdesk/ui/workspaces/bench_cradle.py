"""The bench's left panel: the device on the cradle, its diagnosis, and what can be done to it.

Widgets only; the workspace (``bench``) connects them to the device work.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..pairing.ports import PortPicker
from ..style import set_prop

NO_DEVICE = "No device connected."
NO_FINDINGS = "Connect a device to see its battery health, firmware and self-test."


class CradlePanel(QWidget):
    def __init__(self, key_text: str, key_ok: bool, parent: QWidget | None = None):
        super().__init__(parent, objectName="cradlePanel")
        self.setMinimumWidth(430)
        connect = QGroupBox("Device on the cradle")
        form = QVBoxLayout(connect)
        self.ports = PortPicker(name="benchPort", stacked=True, label="Cradle port")
        port_label = QLabel("&Port:")
        port_label.setBuddy(self.ports.combo)
        self.connect_button = QPushButton("Connect", objectName="primary")
        self.disconnect_button = QPushButton("Disconnect", objectName="disconnect")
        row = QHBoxLayout()
        row.addWidget(self.connect_button)
        row.addWidget(self.disconnect_button)
        row.addStretch(1)
        self.device_label = QLabel(NO_DEVICE, objectName="deviceSummary")
        self.device_label.setWordWrap(True)
        self.device_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_text = QLabel("", objectName="benchStatus")
        self.status_text.setWordWrap(True)
        form.addWidget(port_label)
        form.addWidget(self.ports)
        form.addLayout(row)
        form.addWidget(self.device_label)
        form.addWidget(self.status_text)

        diag = QGroupBox("Diagnostics")
        d = QVBoxLayout(diag)
        self.findings = QLabel(NO_FINDINGS, objectName="findings")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        d.addWidget(self.findings)

        actions = QGroupBox("Actions")
        a = QVBoxLayout(actions)
        self.diagnose_button = QPushButton("Run diagnostics again", objectName="diagnose")
        self.download_button = QPushButton("Download event log", objectName="downloadEvents")
        self.unpair_button = QPushButton("Unpair…", objectName="unpair")
        self.reset_button = QPushButton("Factory reset…", objectName="factoryReset")
        self.pair_button = QPushButton("Pair a tag with a home unit…", objectName="benchPair")
        self.pair_button.setToolTip("Opens the pairing wizard for two devices on their own cables "
                                    "(disconnect the device above first)")
        first = QHBoxLayout()
        first.addWidget(self.diagnose_button)
        first.addWidget(self.download_button)
        a.addLayout(first)
        second = QHBoxLayout()
        second.addWidget(self.unpair_button)
        second.addWidget(self.reset_button)
        a.addLayout(second)
        a.addWidget(self.pair_button)
        self.download_bar = QProgressBar(objectName="downloadProgress")
        self.download_bar.setFormat("%v of %m events")
        self.download_bar.setAccessibleName("Event log download")
        self.download_bar.setVisible(False)
        a.addWidget(self.download_bar)
        self.key_label = QLabel(key_text, objectName="keyLabel" if key_ok else "errorText")
        self.key_label.setWordWrap(True)
        set_prop(self.key_label, "tone", "faint" if key_ok else "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(connect)
        layout.addWidget(diag)
        layout.addWidget(actions)
        layout.addWidget(self.key_label)
        layout.addStretch(1)
