"""Which firmware versions may go out on a device (the approved list)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from emdesk.domain.devices import DeviceKind


@dataclass(frozen=True, slots=True)
class ApprovedFirmware:
    """Approved versions per device kind.  An empty set for a kind approves nothing."""

    versions: Mapping[DeviceKind, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, mapping: Mapping[DeviceKind | str, Iterable[str]]) -> ApprovedFirmware:
        return cls({DeviceKind(k): frozenset(v) for k, v in mapping.items()})

    def is_approved(self, kind: DeviceKind, version: str) -> bool:
        return version in self.versions.get(kind, frozenset())

    def approved_for(self, kind: DeviceKind) -> list[str]:
        return sorted(self.versions.get(kind, frozenset()))


# The versions signed off for the current equipment contract (the emulator ships these).
DEFAULT_APPROVED = ApprovedFirmware.of({
    DeviceKind.RF_TAG: {"2.4.1", "2.4.0"},
    DeviceKind.GPS_TAG: {"5.1.3", "5.1.2"},
    DeviceKind.HMU: {"3.2.1", "3.2.0"},
    DeviceKind.ALCOHOL_TAG: {"1.8.0"},
    DeviceKind.NON_FITTED: {"1.2.0"},
})
