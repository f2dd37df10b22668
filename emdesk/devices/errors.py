"""Everything that can go wrong with a device, worded for the person holding it.

Every error carries a ``code`` (stable, for logs and the UI), ``what`` happened and
``action``: what to do next.  ``str(error)`` is ``"<what>: <action>"``, ready to show.
"""
from __future__ import annotations

from .protocol.codes import Status, command_name


class DeviceError(Exception):
    code = "device_error"
    retryable = True            # pressing Retry may help (as opposed to: use another device)

    def __init__(self, what: str, action: str, *, port: str | None = None, serial: str | None = None,
                 status: int | None = None) -> None:
        self.what = what
        self.action = action
        self.port = port
        self.serial = serial
        self.status = status
        super().__init__(f"{what}: {action}")

    @property
    def message(self) -> str:
        return str(self)


# -- the line ------------------------------------------------------------------------

class PortUnavailable(DeviceError):
    code = "port_unavailable"

    @classmethod
    def on(cls, port: str, reason: str) -> PortUnavailable:
        return cls(f"cannot open {port} ({reason})",
                   "check the cable is plugged in, pick the port again from the list and press Retry", port=port)


class NoAnswer(DeviceError):
    code = "no_answer"

    @classmethod
    def on(cls, port: str, cmd: int | None = None) -> NoAnswer:
        what = f"no answer from the device on {port}"
        if cmd is not None:
            what += f" (to {command_name(cmd)})"
        return cls(what, "check the cable and that the device is switched on, then press Retry", port=port)


class DeviceDisconnected(DeviceError):
    code = "disconnected"

    @classmethod
    def on(cls, port: str, reason: str = "") -> DeviceDisconnected:
        return cls(f"the device on {port} was disconnected" + (f" ({reason})" if reason else ""),
                   "plug the cable back in and press Retry", port=port)


class GarbledLine(DeviceError):
    code = "garbled"

    @classmethod
    def on(cls, port: str, errors: int) -> GarbledLine:
        return cls(f"the answers from {port} are garbled ({errors} damaged frames)",
                   "reseat the cable or try another cable or port, then press Retry", port=port)


class UnsupportedProtocol(DeviceError):
    """The device speaks another version of the protocol than this emdesk."""

    code = "unsupported_protocol"
    retryable = False

    @classmethod
    def on(cls, port: str, version: int | None, *, serial: str | None = None) -> UnsupportedProtocol:
        from .protocol.messages import PROTOCOL_VERSION
        dev = f"the device on {port}" + (f" ({serial})" if serial else "")
        if version is None:
            return cls(f"{dev} speaks another protocol version than emdesk's ({PROTOCOL_VERSION})",
                       "update emdesk, or the device's firmware on the bench", port=port, serial=serial)
        if version > PROTOCOL_VERSION:
            return cls(f"this device speaks protocol version {version}; update emdesk "
                       f"({dev}; this emdesk speaks version {PROTOCOL_VERSION})",
                       "ask IT for the current emdesk, or use another device meanwhile", port=port, serial=serial)
        return cls(f"this device speaks protocol version {version}, older than emdesk's {PROTOCOL_VERSION} ({dev})",
                   "update its firmware on the bench, or use another device", port=port, serial=serial)


class ProtocolFault(DeviceError):
    """The device answered something we cannot understand, or refused a request as malformed."""

    code = "protocol"


# -- the device said no --------------------------------------------------------------

class DeviceRefused(DeviceError):
    code = "refused"


class NotAuthenticated(DeviceRefused):
    code = "not_authenticated"


class AlreadyPaired(DeviceRefused):
    code = "already_paired"
    retryable = False


class PairingExpired(DeviceRefused):
    code = "pairing_expired"


class PartnerNotInRange(DeviceRefused):
    code = "partner_not_in_range"


class ConfigRejected(DeviceRefused):
    code = "config_rejected"
    retryable = False


class BatteryTooLow(DeviceRefused):
    code = "battery_low"


class StrapOpen(DeviceRefused):
    code = "strap_open"


class CaseOpen(DeviceRefused):
    code = "case_open"
    retryable = False


class NoGpsFix(DeviceRefused):
    code = "no_gps_fix"


class DeviceBusy(DeviceRefused):
    code = "busy"


class DeviceFaulty(DeviceRefused):
    code = "faulty"
    retryable = False


class UnsupportedCommand(DeviceRefused):
    code = "unsupported"
    retryable = False


# -- our own checks ------------------------------------------------------------------

class CounterfeitDevice(DeviceError):
    code = "counterfeit"
    retryable = False


class FirmwareNotApproved(DeviceError):
    code = "firmware_not_approved"
    retryable = False


class WrongDevice(DeviceError):
    code = "wrong_device"


class NotAllocated(DeviceError):
    code = "not_allocated"
    retryable = False


class ConditionsNotSupported(DeviceError):
    code = "conditions_not_supported"


class SelfTestFailed(DeviceError):
    code = "self_test_failed"


class Cancelled(DeviceError):
    code = "cancelled"


def device_label(serial: str | None) -> str:
    return f"device {serial}" if serial else "the device"


def error_for_status(status: int, detail: str, *, cmd: int, port: str, serial: str | None = None) -> DeviceError:
    """Turn a non-OK status byte from the device into the right DeviceError."""
    dev = device_label(serial)
    kw = {"port": port, "serial": serial, "status": int(status)}
    try:
        s = Status(status)
    except ValueError:
        return ProtocolFault(f"{dev} answered {command_name(cmd)} with unknown status 0x{status:02X}",
                             "press Retry; if it happens again, set the device aside and report a software fault", **kw)
    extra = f" ({detail})" if detail and s is not Status.ALREADY_PAIRED else ""
    table: dict[Status, tuple[type[DeviceError], str, str]] = {
        Status.UNKNOWN_COMMAND: (UnsupportedCommand, f"{dev} does not support {command_name(cmd)}",
                                 "update its firmware on the bench, or use another device"),
        Status.BAD_REQUEST: (ProtocolFault, f"{dev} rejected {command_name(cmd)} as malformed{extra}",
                             "press Retry; if it happens again, report a software fault"),
        Status.UNSUPPORTED_VERSION: (UnsupportedCommand, f"{dev} speaks a different protocol version{extra}",
                                     "update its firmware on the bench, or use another device"),
        Status.BUSY: (DeviceBusy, f"{dev} is busy", "wait a few seconds and press Retry"),
        Status.NOT_AUTHENTICATED: (NotAuthenticated, f"{dev} refused {command_name(cmd)} before authentication",
                                   "press Retry to start again from the beginning"),
        Status.AUTH_FAILED: (CounterfeitDevice, f"{dev} did not accept emdesk's proof of identity",
                             "check the manufacturer key file is the current one; if it is, do not use this device "
                             "and report it"),
        Status.ALREADY_PAIRED: (AlreadyPaired, f"{dev} is still paired with {detail or 'another device'}",
                                "unpair it on the bench first, or use another device"),
        Status.NOT_PREPARED: (PairingExpired, f"the pairing on {dev} timed out or was cancelled{extra}",
                              "press Retry to start pairing again"),
        Status.PARTNER_NOT_IN_RANGE: (PartnerNotInRange, f"{dev} cannot hear its partner over the radio{extra}",
                                      "bring the tag within 5 metres of the home unit and press Retry"),
        Status.PARTNER_NOT_READY: (PairingExpired, f"the partner of {dev} was not ready to pair{extra}",
                                   "press Retry to start pairing again"),
        Status.WRONG_PARTNER_KIND: (WrongDevice, f"{dev} cannot be paired with that kind of device{extra}",
                                    "pair a tag with a home unit, and press Retry"),
        Status.CONFIG_INVALID: (ConfigRejected, f"{dev} rejected the monitoring configuration{extra}",
                                "check the order's conditions (curfew times, zones) and press Retry"),
        Status.CONFIG_NOT_SUPPORTED: (ConfigRejected, f"{dev} cannot enforce part of the configuration{extra}",
                                      "check the right kind of device is connected for this order's conditions"),
        Status.CONFIG_INCOMPLETE: (PairingExpired, f"{dev} has only part of the configuration{extra}",
                                   "press Retry to start pairing again"),
        Status.BATTERY_TOO_LOW: (BatteryTooLow, f"the battery of {dev} is too low{extra}",
                                 "charge it (at least 2 hours) or use another device, then press Retry"),
        Status.STRAP_OPEN: (StrapOpen, f"strap open on {detail or serial or 'the tag'}", "close the strap and press Retry"),
        Status.CASE_OPEN: (CaseOpen, f"the case of {dev} is open or damaged",
                           "do not fit it: mark it faulty and use another device"),
        Status.NO_GPS_FIX: (NoGpsFix, f"{dev} has no GPS fix",
                            "take it near a window or outside for a minute and press Retry"),
        Status.STORAGE_FAULT: (DeviceFaulty, f"{dev} reported a memory fault{extra}",
                               "mark it faulty and use another device"),
        Status.CONFIRMATION_MISMATCH: (ProtocolFault, f"{dev} refused: the confirmation did not match its serial",
                                       "check you are resetting the right device and try again"),
    }
    if s not in table:
        return ProtocolFault(f"{dev} answered {command_name(cmd)} with status OK but it was treated as an error",
                             "report a software fault", **kw)
    cls, what, action = table[s]
    return cls(what, action, **kw)
