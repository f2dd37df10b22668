"""Serve an emulated device on a pseudo-terminal (or a TCP socket), with fault injection.

    with EmulatedDevice.start(kind="hmu", serial="HMU-000123", faults="strap_open") as dev:
        link = DeviceLink.open(dev.port)       # exactly as the app opens /dev/ttyUSB0

One background thread per device moves bytes between the line and the ``Unit``.  The
app's side of a pty is ``dev.port`` (e.g. /dev/pts/7); the emulator keeps its own copy
of the slave fd open so the master never reads EIO when the app closes the port.
"""
from __future__ import annotations

import logging
import os
import pty
import random
import select
import socket
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable

from emdesk.devices.protocol.codes import Command
from emdesk.devices.protocol.frame import EVENT_RID, VERSION, Frame, FrameDecoder, encode_frame
from emdesk.domain.devices import DeviceKind

from .air import Air
from .factory import DEFAULT_SERIAL_PREFIX, EMULATOR_MANUFACTURER, Manufacturer
from .faults import Faults
from .unit import Unit

log = logging.getLogger(__name__)
TICK = 0.05
_MARK_SPEED = termios.B9600


class EmulatedDevice:
    def __init__(self, unit: Unit, faults: Faults, *, listen: tuple[str, int] | None = None) -> None:
        self.unit = unit
        self.faults = faults
        self._listen_addr = listen
        self._cond = threading.Condition()
        self.requests = 0                # requests that reached the line (counted for faults)
        self.frames_sent = 0
        self.bytes_written = 0           # bytes actually put on the line (wait_for(...) on it)
        self.plugged = True
        self._silent = False
        self._lost_req_done = self._lost_resp_done = self._lost_ack_done = False
        self.acks = 0                    # event acknowledgements that reached the line
        self._out: deque[tuple[float, bytes]] = deque()
        self._controls: deque[tuple[Callable[[], None], threading.Event]] = deque()
        self._decoder = FrameDecoder()
        self._rng = random.Random(unit.serial)
        self._stop = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._master: int | None = None
        self._slave: int | None = None
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self.port = ""
        unit.wake = self._wake
        self._open_line()
        self._thread = threading.Thread(target=self._run, name=f"emulator-{unit.serial}", daemon=True)

    @classmethod
    def start(cls, kind: DeviceKind | str, serial: str | None = None, faults: Faults | str | None = None, *,
              air: Air | None = None, manufacturer: Manufacturer = EMULATOR_MANUFACTURER,
              listen: tuple[str, int] | None = None, clock: Callable[[], float] = time.time) -> EmulatedDevice:
        kind = DeviceKind(kind)
        if serial is None:
            serial = f"{DEFAULT_SERIAL_PREFIX[kind]}-{random.randrange(10**6):06d}"
        if isinstance(faults, str):
            faults = Faults.parse(faults)
        faults = faults or Faults()
        unit = Unit(kind, serial, faults=faults, manufacturer=manufacturer, air=air, clock=clock)
        dev = cls(unit, faults, listen=listen)
        dev._thread.start()
        return dev

    # -- context manager / lifetime ------------------------------------------------------

    def __enter__(self) -> EmulatedDevice:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stop:
            return
        self._stop = True
        self._wake()
        if self._thread.is_alive():
            self._thread.join(5)
        self.unit.wake = lambda: None             # the pipe is about to close
        self._close_line()
        self.unit.air.leave(self.unit)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    @property
    def serial(self) -> str:
        return self.unit.serial

    @property
    def kind(self) -> DeviceKind:
        return self.unit.kind

    # -- the cable -------------------------------------------------------------------------

    def unplug(self, how: str = "silent") -> None:
        """Pull the cable: "silent" (the port stays, nothing answers) or "vanish" (the port goes)."""
        self._control(lambda: self._cut(how))

    def plug_in(self) -> None:
        """Put the cable back.  After "vanish" the device comes back on a new port (``dev.port``)."""
        def do() -> None:
            if self._master is None and self._client is None and self._server is None:
                self._open_line()
            self._silent = False
            self.plugged = True
        self._control(do)

    def _control(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the emulator thread (it owns the fds) and wait for it."""
        done = threading.Event()
        self._controls.append((fn, done))
        self._wake()
        if not done.wait(5):
            raise TimeoutError(f"emulator {self.unit.serial} did not respond")

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
        """Block until ``predicate()`` holds (re-checked after every request, write and cable change)."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_requests(self, n: int, timeout: float = 2.0) -> bool:
        return self.wait_for(lambda: self.requests >= n, timeout)

    # -- physical actions, forwarded to the unit -------------------------------------------

    def open_strap(self) -> None:
        self.unit.open_strap()

    def close_strap(self) -> None:
        self.unit.close_strap()

    def set_battery(self, pct: int, charging: bool | None = None) -> None:
        self.unit.set_battery(pct, charging)

    def report_position(self) -> None:
        self.unit.report_position()

    def advance(self, seconds: float) -> None:
        self.unit.advance(seconds)

    def power_cycle(self) -> None:
        self.unit.power_cycle()

    # -- internals -------------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass

    def _open_line(self) -> None:
        if self._listen_addr is not None:
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(self._listen_addr)
            srv.listen(1)
            self._server = srv
            host, port = srv.getsockname()[:2]
            self._listen_addr = (host, port)
            self.port = f"socket://{host}:{port}"
        else:
            master, slave = pty.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._master, self._slave = master, slave
            self.port = os.ttyname(slave)
            self._mark_line()
        self._decoder.reset()
        self._out.clear()

    def _close_line(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        for s in (self._client, self._server):
            if s is not None:
                s.close()
        self._client = self._server = None

    def _cut(self, how: str) -> None:
        self.plugged = False
        if how == "vanish":
            self._close_line()
        else:
            self._silent = True
        self._out.clear()
        self._cond.notify_all()

    def _line_fd(self) -> int | None:
        if self._master is not None:
            return self._master
        if self._client is not None:
            return self._client.fileno()
        return None

    def _run(self) -> None:
        while not self._stop:
            try:
                self._step()
            except Exception:                   # the emulator must outlive any one bad moment
                log.exception("emulator %s: unexpected error", self.unit.serial)
                time.sleep(TICK)

    def _step(self) -> None:
        now = time.monotonic()
        timeout = TICK
        if self._out:
            timeout = max(0.002, min(timeout, self._out[0][0] - now))
        rlist = [self._wake_r]
        fd = self._line_fd()
        if fd is not None:
            rlist.append(fd)
        if self._server is not None and self._client is None:
            rlist.append(self._server)
        ready, _, _ = select.select(rlist, [], [], timeout)
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        if self._stop:
            return
        while self._controls:
            fn, done = self._controls.popleft()
            with self._cond:
                try:
                    fn()
                finally:
                    self._cond.notify_all()
                    done.set()
            return                              # the fds may have changed: select again
        if self._server is not None and self._server in ready:
            self._client, _ = self._server.accept()
            self._client.setblocking(False)
            self._decoder.reset()
            self.unit.new_connection()
        if fd is not None and fd in ready:
            data = self._read(fd)
            if data:
                self._notice_new_connection()
                for item in self._decoder.feed(data):
                    if isinstance(item, Frame):
                        self._on_request(item)
        self.unit.tick()
        with self._cond:
            if self.plugged and not self._silent:
                for frame in self.unit.take_event_frames():
                    self._send(frame)
        self._flush_out()

    def _mark_line(self) -> None:
        """Set the pty's line speed to a marker no app uses: opening the port (pyserial sets
        115200 baud) changes it, which is how a pty shows a new connection -- the part a
        USB cradle plays by raising DTR."""
        if self._slave is None:
            return
        try:
            attrs = termios.tcgetattr(self._slave)
            attrs[4] = attrs[5] = _MARK_SPEED
            termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        except termios.error:
            pass

    def _notice_new_connection(self) -> None:
        if self._slave is None:
            return
        try:
            speed = termios.tcgetattr(self._slave)[4]
        except termios.error:
            return
        if speed != _MARK_SPEED:
            self._decoder.reset()
            self.unit.new_connection()
            self._mark_line()

    def _read(self, fd: int) -> bytes:
        try:
            if self._client is not None and fd == self._client.fileno():
                data = self._client.recv(4096)
                if not data:                    # the app closed the socket
                    self._client.close()
                    self._client = None
                return data
            return os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return b""

    def _on_request(self, frame: Frame) -> None:
        f = self.faults
        if frame.rid == EVENT_RID and frame.cmd == Command.EVENT_ACK:
            with self._cond:                    # not a request: never answered, not counted as one
                if not self.plugged:
                    return
                self.acks += 1
                if f.lose_ack == self.acks and not self._lost_ack_done:
                    self._lost_ack_done = True
                    self._cond.notify_all()
                    return
            self.unit.ack_events(frame.payload)
            with self._cond:
                self._cond.notify_all()
            return
        with self._cond:
            if not self.plugged:
                return                          # the cable is out: nobody hears this
            self.requests += 1
            n = self.requests
            self._cond.notify_all()
            if f.unplug_at == n and f.unplug_when == "before":
                self._cut(f.unplug_how)
                return
            if f.lose_request == n and not self._lost_req_done:
                self._lost_req_done = True
                return
        answers = self.unit.handle(frame)
        with self._cond:
            self._cond.notify_all()
            if f.unplug_at == n and f.unplug_when == "after":
                self._cut(f.unplug_how)
                return
            if f.lose_response == n and not self._lost_resp_done:
                self._lost_resp_done = True
                return
            if not self.plugged:
                return
            for a in answers:
                self._send(a)

    def _send(self, frame: Frame) -> None:
        f = self.faults
        self.frames_sent += 1
        n = self.frames_sent
        data = bytearray(encode_frame(frame.rid, frame.cmd, frame.payload, version=f.frame_version or VERSION))
        if f.noise_every and n % f.noise_every == 0:
            noise = bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(1, 12)))
            self._queue(b"\xa5" + noise)
        if f.corrupt_every and n % f.corrupt_every == 0:
            i = self._rng.randrange(1, len(data))
            data[i] ^= 1 << self._rng.randrange(8)
        if f.drop_every and n % f.drop_every == 0:
            del data[len(data) // 2]
        self._queue(bytes(data))

    def _queue(self, data: bytes) -> None:
        f = self.faults
        due = time.monotonic() + f.delay
        if self._out:
            due = max(due, self._out[-1][0])
        if f.trickle:
            for i, b in enumerate(data):
                self._out.append((due + i * f.trickle, bytes((b,))))
        else:
            self._out.append((due, data))

    def _flush_out(self) -> None:
        fd = self._line_fd()
        now = time.monotonic()
        while self._out and self._out[0][0] <= now:
            if fd is None or self._silent:
                self._out.clear()
                return
            due, data = self._out.popleft()
            try:
                if self._client is not None and fd == self._client.fileno():
                    sent = self._client.send(data)
                else:
                    sent = os.write(fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._out.clear()
                return
            if sent:
                with self._cond:
                    self.bytes_written += sent
                    self._cond.notify_all()
            if sent < len(data):
                self._out.appendleft((due, data[sent:]))
                return
