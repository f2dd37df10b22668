"""Page 1: what is being paired, which port each device is on, and the authenticity key."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from .jobs import PairingJob
from .ports import PortPicker


class ConnectPage(QWidget):
    changed = Signal()            # a port picked, or the home unit ticked or not

    def __init__(self, job: PairingJob, key_text: str, key_ok: bool, parent: QWidget | None = None):
        super().__init__(parent, objectName="connectPage")
        what = QGroupBox(job.facts_title)
        grid = QGridLayout(what)
        grid.setColumnStretch(1, 1)
        for i, (label, value) in enumerate(job.facts()):
            name = QLabel(label + ":", objectName="jobLabel")
            text = QLabel(value, objectName=f"job{label.replace(' ', '')}")
            text.setWordWrap(True)
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, i, 1)

        ports = QGroupBox("Connect the devices to the cradle")
        form = QGridLayout(ports)
        form.setColumnStretch(1, 1)
        self.tag_ports = PortPicker(name="tagPort", label="Tag port")
        self.hmu_ports = PortPicker(name="hmuPort", label="Home unit port")
        self.with_hmu = QCheckBox("with a &home monitoring unit", objectName="withHmu")
        self.with_hmu.setAccessibleName("With a home monitoring unit")
        self.with_hmu.setAccessibleDescription("Pair the tag with a home unit on the second port")
        self.with_hmu.setChecked(job.needs_home_unit)
        tag_label = QLabel("&Tag (or standalone device):")
        tag_label.setBuddy(self.tag_ports.combo)
        hmu_label = QLabel("H&ome unit:")
        hmu_label.setBuddy(self.hmu_ports.combo)
        hint = QLabel("Each device on its own cable or cradle slot. Not listed? Use “Add port…” "
                      "(a network cradle: socket://address:port).", objectName="portHint")
        hint.setWordWrap(True)
        form.addWidget(tag_label, 0, 0)
        form.addWidget(self.tag_ports, 0, 1)
        form.addWidget(self.with_hmu, 1, 0, 1, 2)
        form.addWidget(hmu_label, 2, 0)
        form.addWidget(self.hmu_ports, 2, 1)
        form.addWidget(hint, 3, 0, 1, 2)
        self.with_hmu.toggled.connect(self._changed)
        self.tag_ports.changed.connect(self._changed)
        self.hmu_ports.changed.connect(self._changed)

        self.key_label = QLabel(key_text, objectName="keyLabel" if key_ok else "errorText")
        self.key_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(what)
        layout.addWidget(ports)
        layout.addWidget(self.key_label)
        layout.addStretch(1)
        self._changed()

    def _changed(self, *args) -> None:
        self.hmu_ports.setEnabled(self.with_hmu.isChecked())
        self.changed.emit()

    def hmu_port(self) -> str | None:
        return self.hmu_ports.port() if self.with_hmu.isChecked() else None

    def ready(self) -> bool:
        tag, hmu = self.tag_ports.port(), self.hmu_ports.port()
        return bool(tag) and (not self.with_hmu.isChecked() or bool(hmu)) and tag != hmu
