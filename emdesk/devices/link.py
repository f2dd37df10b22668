"""Request/response over one serial port: request ids, timeouts, retries, resync, events.

A ``DeviceLink`` is used from one thread (the device thread, see ``worker.py``).  It
does not run a reader thread: bytes are read while waiting for an answer, and between
requests by ``poll_events``.  Asynchronous EVENT frames seen at any time go to
``on_event``.

A retry resends the *same* frame with the *same* request id, so a device that already
acted on the first copy replays its cached answer instead of acting twice.  Answers
whose request id or command do not match are stale (the answer to an earlier attempt)
and dropped.  When an attempt times out the decoder is flushed, so a frame hidden
behind a corrupted length field is still found.

Events are numbered by the device and acknowledged here (EVENT_ACK, see ``events.py``)
once ``on_event`` has returned, in order, each delivered once per ``cursor``.  A frame
of a later protocol version (another VER byte) raises UnsupportedProtocol at once
("this device speaks protocol version N; update emdesk") instead of looking like a
silent device.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from .errors import (
    DeviceDisconnected, DeviceError, GarbledLine, NoAnswer, ProtocolFault, UnsupportedProtocol, error_for_status,
)
from .events import ACCEPT, DUPLICATE, EventCursor, MemoryCursor, judge
from .protocol.codes import Command, Status, command_name
from .protocol.frame import (
    EVENT_RID, MAX_PAYLOAD, Frame, FrameDecoder, ProtocolError, ProtocolErrorKind, encode_frame,
)
from .protocol.messages import DeviceEvent, ErrorDetail, EventAck, EventNotice, decode_response
from .protocol.wire import PayloadError
from .transport import POLL_INTERVAL, PORT_ERRORS, open_port

log = logging.getLogger(__name__)

EventCallback = Callable[[DeviceEvent], None]   # returns once the event is stored


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    timeout: float = 0.5            # seconds to wait for each attempt's answer
    retries: int = 2                # extra attempts after the first
    backoff: float = 0.05           # wait before retry n: backoff * 2**(n-1), reading meanwhile
    garbled_limit: int = 8          # damaged frames in one request before giving up early
    idle_gap: float = 0.1           # silence that ends a partial frame


@dataclass(slots=True)
class LinkStats:
    requests: int = 0
    retries: int = 0
    stale: int = 0
    events: int = 0                 # delivered to on_event (and acknowledged)
    damaged: int = 0
    duplicates: int = 0             # events seen again (their acknowledgement was lost): acknowledged again
    acks: int = 0


class DeviceLink:
    def __init__(self, port: serial.SerialBase, *, name: str | None = None, policy: LinkPolicy | None = None,
                 on_event: EventCallback | None = None, close_port: bool = True,
                 cursor: EventCursor | None = None) -> None:
        self.port = port
        self.name = name or getattr(port, "name", None) or getattr(port, "port", None) or "serial port"
        self.policy = policy or LinkPolicy()
        self.on_event = on_event
        self.cursor: EventCursor = cursor if cursor is not None else MemoryCursor()
        self.serial: str | None = None          # set once the device has said who it is
        self.max_payload = MAX_PAYLOAD          # lowered to what the device takes, at HELLO
        self.stats = LinkStats()
        self._backlog: list[Frame | ProtocolError] = []   # read behind an answer, not yet handled
        self._decoder = FrameDecoder()
        self._rid = secrets.randbelow(0xFFFF) + 1
        self._broken: DeviceError | None = None
        self._close_port = close_port
        if port.timeout is None or port.timeout > 0.1:
            port.timeout = POLL_INTERVAL       # reads must come back often enough to see the clock

    @classmethod
    def open(cls, url: str, **kw) -> DeviceLink:
        return cls(open_port(url), name=url, **kw)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        if self._close_port:
            try:
                self.port.close()
            except PORT_ERRORS:        # closing a vanished port can fail; nothing to do
                log.debug("closing %s failed", self.name, exc_info=True)

    def __enter__(self) -> DeviceLink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def broken(self) -> bool:
        return self._broken is not None

    # -- requests ----------------------------------------------------------------------

    def request(self, cmd: Command | int, payload: bytes = b"", *, timeout: float | None = None,
                retries: int | None = None) -> bytes:
        """Send a request and return the response body (after the OK status byte).

        Raises NoAnswer, DeviceDisconnected, GarbledLine, ProtocolFault, or the
        DeviceRefused subclass matching the device's status code.
        """
        if self._broken:
            raise self._broken
        if len(payload) > self.max_payload:
            raise ProtocolFault(f"a {command_name(cmd)} request of {len(payload)} bytes is more than the device on "
                                f"{self.name} takes ({self.max_payload})", "report a software fault", port=self.name)
        timeout = self.policy.timeout if timeout is None else timeout
        retries = self.policy.retries if retries is None else retries
        rid = self._next_rid()
        frame = encode_frame(rid, int(cmd), payload)
        self.stats.requests += 1
        damaged = 0
        for attempt in range(retries + 1):
            if attempt:
                self.stats.retries += 1
                self._drain(self.policy.backoff * 2 ** (attempt - 1), rid, cmd)
            self._write(frame)
            answer, bad = self._await(rid, int(cmd), time.monotonic() + timeout)
            damaged += bad
            if answer is not None:
                return self._unwrap(answer, int(cmd))
            if damaged >= self.policy.garbled_limit:
                raise GarbledLine.on(self.name, damaged)
            log.debug("%s: no good answer to %s (rid %d), attempt %d", self.name, command_name(cmd), rid, attempt + 1)
        if damaged:
            raise GarbledLine.on(self.name, damaged)
        raise NoAnswer.on(self.name, int(cmd))

    def poll_events(self, timeout: float = 0.0) -> int:
        """Deliver events that have arrived; returns how many.

        With ``timeout`` > 0, waits up to that long for at least one, returning as soon as
        one was delivered and nothing more is waiting.  The device worker calls this with
        0 whenever it is idle.
        """
        if self._broken:
            raise self._broken
        before = self.stats.events
        deadline = time.monotonic() + timeout
        self._handle_backlog()
        while True:
            data = self._read(block=timeout > 0)
            for item in self._decoder.feed(data) if data else []:
                self._handle_unmatched(item)
            if time.monotonic() >= deadline or (self.stats.events > before and not data):
                break
        return self.stats.events - before

    # -- internals ---------------------------------------------------------------------

    def _next_rid(self) -> int:
        self._rid = self._rid % 0xFFFF + 1      # 1..65535, never 0 (events)
        return self._rid

    def _unwrap(self, frame: Frame, cmd: int) -> bytes:
        try:
            status, body = decode_response(frame.payload)
        except PayloadError as e:
            raise ProtocolFault(f"the device on {self.name} sent an empty answer to {command_name(cmd)}",
                                "press Retry; if it happens again, report a software fault", port=self.name) from e
        if status == Status.OK:
            return body
        try:
            detail = ErrorDetail.decode(body).text
        except PayloadError:
            detail = ""
        raise error_for_status(int(status), detail, cmd=cmd, port=self.name, serial=self.serial)

    def _await(self, rid: int, cmd: int, deadline: float) -> tuple[Frame | None, int]:
        """Read until the matching answer arrives or the attempt is over; (answer, damaged).

        The attempt ends at the deadline, or early when a damaged frame was seen and the
        line has gone quiet (the good copy is not coming).  A partial frame followed by
        ``idle_gap`` seconds of silence is abandoned (the decoder is flushed), like the
        inter-frame gap of other serial protocols.
        """
        damaged = 0
        want = cmd | 0x80
        last_byte = time.monotonic()
        self._handle_backlog()
        while True:
            data = self._read(block=True)
            now = time.monotonic()
            if data:
                last_byte = now
                items = self._decoder.feed(data)
            elif self._decoder.pending and (now - last_byte >= self.policy.idle_gap or now >= deadline):
                items = self._decoder.flush()
            else:
                items = []
            for n, item in enumerate(items):
                if isinstance(item, ProtocolError):
                    if item.kind is ProtocolErrorKind.VERSION:
                        raise UnsupportedProtocol.on(self.name, item.version, serial=self.serial)
                    if item.kind is not ProtocolErrorKind.GARBAGE:
                        damaged += 1
                        self.stats.damaged += 1
                    continue
                if item.rid == rid and item.cmd == want:
                    self._backlog.extend(items[n + 1:])     # (events behind the answer: handled next)
                    return item, damaged
                self._dispatch_unmatched(item)
            if now >= deadline or (damaged and not data and not self._decoder.pending):
                return None, damaged

    def _drain(self, seconds: float, rid: int, cmd: int) -> None:
        """Wait before a retry while still reading (events delivered, stale answers dropped)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data = self._read(block=True)
            for item in self._decoder.feed(data) if data else []:
                self._handle_unmatched(item)

    def _handle_backlog(self) -> None:
        while self._backlog:
            self._handle_unmatched(self._backlog.pop(0))

    def _handle_unmatched(self, item: Frame | ProtocolError) -> None:
        if isinstance(item, Frame):
            self._dispatch_unmatched(item)
        elif item.kind is ProtocolErrorKind.VERSION:
            raise UnsupportedProtocol.on(self.name, item.version, serial=self.serial)

    def _dispatch_unmatched(self, frame: Frame) -> None:
        if frame.rid == EVENT_RID and frame.cmd == Command.EVENT:
            try:
                notice = EventNotice.decode(frame.payload)
            except PayloadError:
                log.warning("%s: undecodable event frame dropped", self.name)
                return
            self._take_event(notice)
        else:
            self.stats.stale += 1

    def _take_event(self, notice: EventNotice) -> None:
        """Deliver an event once and in order, then acknowledge it (see ``events.py``)."""
        serial = self.serial or ""
        last = self.cursor.last(serial)
        verdict = judge(notice, last)
        if verdict is DUPLICATE:
            self.stats.duplicates += 1
            self._ack(last)
            return
        if verdict is not ACCEPT:
            return                     # one before it was lost on the line; the device sends both again
        event = notice.event
        if event.seq != last + 1 and last:
            log.warning("%s: events %d..%d of %s were lost on the device (its log overflowed)",
                        self.name, last + 1, event.seq - 1, serial)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:          # a broken listener must not break the link; the event comes again
                log.exception("%s: event callback failed; event %d not acknowledged", self.name, event.seq)
                return
        self.cursor.stored(serial, event.seq)
        self.stats.events += 1
        self._ack(event.seq)

    def _ack(self, seq: int) -> None:
        self.stats.acks += 1
        self._write(encode_frame(EVENT_RID, Command.EVENT_ACK, EventAck(seq).encode()))

    def _read(self, *, block: bool) -> bytes:
        try:
            waiting = self.port.in_waiting
            if waiting:
                return self.port.read(waiting)
            if not block:
                return b""
            data = self.port.read(1)
            if data and self.port.in_waiting:
                data += self.port.read(self.port.in_waiting)
            return data
        except PORT_ERRORS as e:
            self._broken = DeviceDisconnected.on(self.name, _short(e))
            raise self._broken from e

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except PORT_ERRORS as e:
            self._broken = DeviceDisconnected.on(self.name, _short(e))
            raise self._broken from e


def _short(e: Exception) -> str:
    text = str(e)
    if "readiness to read but returned no data" in text or "Input/output error" in text:
        return "the port went away"
    return text


__all__ = ["DeviceLink", "LinkPolicy", "LinkStats", "EventCallback", "DeviceError"]
