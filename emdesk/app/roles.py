"""The role names the command line takes (``--as``), and the roles they mean."""
from __future__ import annotations

ROLES = {
    "field-officer": "field_officer",
    "technician": "technician",
    "monitoring": "monitoring_operator",
    "supervisor": "supervisor",
}
