"""Opening serial ports (any pyserial URL) and listing the candidates to offer the user.

``open_port`` goes through ``serial.serial_for_url`` so a USB cradle (``/dev/ttyUSB0``,
``COM3``), a network cradle (``socket://host:port``), an emulated device (a pty path)
or a loopback (``loop://``) are all the same to the rest of emdesk.
"""
from __future__ import annotations

from dataclasses import dataclass

import serial
import serial.tools.list_ports

from .errors import PortUnavailable

try:                                   # POSIX ports raise termios.error (not an OSError) from ioctl
    from termios import error as _TermiosError
except ImportError:                    # pragma: no cover - Windows
    class _TermiosError(Exception):
        pass

# What a port can raise when the device or cable goes away.
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TermiosError)

BAUDRATE = 115200
POLL_INTERVAL = 0.02           # the port's read timeout: how often a waiting link looks at the clock

# USB-serial bridges used in the monitoring cradles and cables we ship.
KNOWN_ADAPTERS: dict[tuple[int, int], str] = {
    (0x0403, 0x6001): "FTDI FT232R cradle cable",
    (0x0403, 0x6015): "FTDI FT230X cradle",
    (0x10C4, 0xEA60): "Silicon Labs CP210x cradle",
    (0x1A86, 0x7523): "WCH CH340 cable",
    (0x067B, 0x2303): "Prolific PL2303 cable",
}


@dataclass(frozen=True, slots=True)
class PortCandidate:
    device: str                        # what to pass to open_port / DeviceLink.open
    description: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    hwid: str = ""
    manual: bool = False               # added by hand, not found by scanning

    @property
    def known_adapter(self) -> bool:
        return (self.vid, self.pid) in KNOWN_ADAPTERS

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None and self.pid is not None else ""

    @property
    def label(self) -> str:
        """One line for a port picker: "/dev/ttyUSB0 - FTDI FT232R cradle cable (0403:6001)"."""
        desc = KNOWN_ADAPTERS.get((self.vid, self.pid)) or self.description or "serial port"
        usb = f" ({self.usb_id})" if self.usb_id else ""
        return f"{self.device} - {desc}{usb}" + (" [added by hand]" if self.manual else "")


def manual_port(url: str, description: str = "") -> PortCandidate:
    """A port the user typed in (a pty path, ``socket://10.0.0.5:4001``, ``COM7``)."""
    url = url.strip()
    if not url:
        raise ValueError("empty port name")
    return PortCandidate(device=url, description=description or "added by hand", manual=True)


def list_ports(manual: tuple[PortCandidate | str, ...] | list = ()) -> list[PortCandidate]:
    """Serial ports on this machine, known cradle adapters first, then ports added by hand."""
    found = []
    for info in serial.tools.list_ports.comports():
        found.append(PortCandidate(
            device=info.device, description=info.description or "", vid=info.vid, pid=info.pid,
            serial_number=info.serial_number, manufacturer=info.manufacturer, hwid=info.hwid or "",
        ))
    found.sort(key=lambda p: (not p.known_adapter, p.vid is None, p.device))
    seen = {p.device for p in found}
    for m in manual:
        cand = manual_port(m) if isinstance(m, str) else m
        if cand.device not in seen:
            found.append(cand)
            seen.add(cand.device)
    return found


def open_port(url: str, *, baudrate: int = BAUDRATE, poll_interval: float = POLL_INTERVAL) -> serial.SerialBase:
    """Open any pyserial URL as 8N1 at ``baudrate``; raises PortUnavailable with advice."""
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=poll_interval, write_timeout=2.0,
                                     exclusive=True if _is_device_path(url) else None)
    except (*PORT_ERRORS, ValueError) as e:
        raise PortUnavailable.on(url, _reason(e)) from e
    return port


def _is_device_path(url: str) -> bool:
    return "://" not in url


def _reason(e: Exception) -> str:
    text = str(e)
    if "No such file" in text or "could not open port" in text and "Errno 2" in text:
        return "no such port: the cable may be unplugged"
    if "Permission denied" in text or "Errno 13" in text:
        return "permission denied: ask IT to add you to the dialout group"
    if "Connection refused" in text:
        return "nothing is listening at that address"
    if "busy" in text.lower() or "Errno 16" in text or "lock" in text.lower():
        return "another program is using it"
    return text or type(e).__name__
