"""The pack dialog's right-hand side: the versions, and what can be done with the one selected.

Issue (to the agency contact, editable), Amend (a reason required) and Save.  No button
is the dialog's default: Enter in a field must never issue a pack.  The dialog runs the
actions; this side only holds the fields and says which buttons apply.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from emdesk.domain.monitoring import BreachPack, BreachPackStatus

from .versions import status_words, versions_table

RECIPIENT_FIELD, REASON_FIELD = "Issue to", "Reason for amending"


class PackSide(QWidget):
    version_chosen = Signal()          # another version selected in the table

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("packSide")
        self.table = versions_table(self)
        self.table.view.selectionModel().selectionChanged.connect(self._chosen)

        self.recipient = QLineEdit(objectName="packRecipient")
        self.recipient.setAccessibleName(RECIPIENT_FIELD)
        self.recipient.setPlaceholderText("the agency contact the pack goes to")
        self.issue_button = QPushButton("&Issue", objectName="packIssue")
        self.reason = QLineEdit(objectName="packAmendReason")
        self.reason.setAccessibleName(REASON_FIELD)
        self.reason.setPlaceholderText("what changed and why (kept with the pack)")
        self.amend_button = QPushButton("&Amend: new version", objectName="packAmend")
        self.save_button = QPushButton("&Save PDF and JSON…", objectName="packSave")
        # Enter in a field must never issue a pack: no button is the dialog's default;
        # Enter in the reason amends (the field's own action), in the recipient it does nothing.
        for button in (self.issue_button, self.amend_button, self.save_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.issue_note = QLabel("Records this version as sent, under your name, at the time shown. An issued "
                                 "version is never changed: amend to send a corrected one.", objectName="hintText")
        self.issue_note.setWordWrap(True)
        self.saved_label = QLabel("", objectName="hintText")
        self.saved_label.setWordWrap(True)
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        issue_box = QGroupBox("Issue the selected version", self)
        issue_form = QFormLayout(issue_box)
        issue_form.addRow(f"{RECIPIENT_FIELD}:", self.recipient)
        issue_form.addRow("", self.issue_button)
        issue_form.addRow("", self.issue_note)
        amend_box = QGroupBox("Amend the pack", self)
        amend_form = QFormLayout(amend_box)
        amend_form.addRow(f"{REASON_FIELD}:", self.reason)
        amend_form.addRow("", self.amend_button)
        self.versions_label = QLabel("Versions", objectName="sectionTitle")

        side_layout = QVBoxLayout(self)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.versions_label)
        # A pack has a few versions: the table stays short, the actions under it in view.
        self.table.view.setMaximumHeight(170)
        side_layout.addWidget(self.table.view)
        side_layout.addWidget(issue_box)
        side_layout.addWidget(amend_box)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addStretch(1)
        side_layout.addLayout(save_row)
        side_layout.addWidget(self.saved_label)
        side_layout.addStretch(1)

    @Slot()
    def _chosen(self, *_args) -> None:
        self.version_chosen.emit()

    def selected_version(self) -> BreachPack | None:
        return self.table.selected_row()

    def set_versions(self, versions: list[BreachPack], *, select: str | None) -> None:
        self.table.set_rows(versions)
        self.versions_label.setText(f"Versions ({len(versions)}): the newest at the top")
        if select is not None:
            for row in range(self.table.proxy.rowCount()):
                if self.table.proxy.row_at(row).id == select:
                    self.table.view.selectRow(row)
                    break

    def update_buttons(self, version: BreachPack | None, *, ready: bool, has_pack: bool) -> None:
        """Issue for a draft not yet issued, Amend once there is a pack, Save for any version."""
        issuable = version is not None and version.sent_at is None and version.status is BreachPackStatus.DRAFT
        self.issue_button.setEnabled(ready and issuable)
        self.recipient.setEnabled(ready and issuable)
        if version is not None:
            self.issue_button.setText(f"&Issue v{version.version}" if issuable else
                                      f"v{version.version} {status_words(version).lower()}")
        self.amend_button.setEnabled(ready and has_pack)
        self.reason.setEnabled(ready and has_pack)
        self.save_button.setEnabled(ready and version is not None)
