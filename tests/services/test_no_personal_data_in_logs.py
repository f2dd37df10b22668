"""Logs at INFO and above carry no personal data: names, addresses, phone numbers, notes."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services.intake import IntakeService

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "orders"


def test_importing_orders_logs_nothing_personal(store, clock, tmp_path, caplog):
    user = store.put(User(username="monitor", display_name="M", role=Role.MONITORING_OPERATOR, region="Wales"))
    records = [json.loads(p.read_text())["intake"] for p in sorted((CORPUS / "valid").glob("*.json"))]
    records += [json.loads(p.read_text())["intake"] for p in sorted((CORPUS / "invalid").glob("*.json"))[:20]]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(records))
    with caplog.at_level(logging.INFO):
        IntakeService(store, user, clock, GazetteerGeocoder()).import_file(path)
        IntakeService(store, user, clock, GazetteerGeocoder()).import_file(path)
    personal = set()
    for r in records:
        subject = r.get("subject") if isinstance(r, dict) and isinstance(r.get("subject"), dict) else {}
        personal |= {v for k, v in subject.items() if k in ("given_name", "family_name", "phone") and v}
        for address in subject.get("addresses") or []:
            if isinstance(address, dict):
                personal |= {line for line in address.get("lines") or [] if isinstance(line, str) and line}
    assert personal
    text = "\n".join(rec.getMessage() for rec in caplog.records if rec.levelno >= logging.INFO)
    leaked = sorted(p for p in personal if isinstance(p, str) and p in text)
    assert not leaked, f"personal data in the log: {leaked[:5]}"
