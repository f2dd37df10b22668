"""The gateway's HTTP server: OsmAnd requests at the root URL, answered 200 or 400 with why.

The standard library's threading server is enough here: a phone posts one small request a
fix, ingest takes them one at a time anyway (it holds a lock around the store), and it
needs no extra dependency on a hub-only install.  An ASGI stack would have to hand every
request to a worker thread for the blocking store call and would gain nothing.

Answers: 200 for a fix taken (new, or a resend of one already stored); 400 with a plain-text
reason for a request that cannot be read or a fix ingest refuses (unknown device, before it
was fitted, ahead of the clock...); 413 for a body over ``MAX_BODY``; 408 for a client too
slow to send its request; 500 (logged with its traceback, never shown) if the store fails.
"""
from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import TelemetryPort

from .osmand import OsmAndError, encode, parse_request

MAX_BODY = 64 * 1024           # bytes: a Traccar Client fix is under 1 KiB, a buffered batch a few
READ_TIMEOUT_S = 15.0          # a client silent this long mid-request (or idle on keep-alive) is dropped
FLEET_TTL_S = 30.0             # devices fitted (or removed) since are known within this
DRAIN_S = 10.0                 # on shutdown, requests in hand get this long to finish
FIXES = frozenset({"position", "no_fix"})   # what the phone asked us to take; the rest rides along

log = logging.getLogger("emdesk.gateway")


@dataclass(frozen=True)
class Verdict:
    status: int
    text: str                  # the body for the client ("" when taken)
    device: str | None
    reason: str                # short key for the log: stored, resend, or why it was refused


SWEEP_S = 300          # silent orders are judged this often (a missed check-in sends nothing)


class Gateway:
    """Requests in, verdicts out: parse, hand the lines to ingest, say what became of the fix."""

    def __init__(self, port: TelemetryPort, *, fleet_ttl_s: float = FLEET_TTL_S):
        self.port = port
        self.service = IngestService(port)
        self.fleet_ttl_s = fleet_ttl_s
        self._fleet_at = time.monotonic()
        self._lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()

    def sweep(self) -> None:
        """Judge every watched order now, events or not (see ``IngestService.sweep``)."""
        with self._lock:
            report = self.service.sweep()
        log.info("sweep: %d periods judged, %d new incidents", report.periods, report.incidents)

    def handle(self, query: str, body: bytes, content_type: str | None = None) -> Verdict:
        try:
            lines = parse_request(query, body, content_type)
        except OsmAndError as exc:
            return Verdict(400, f"{exc.reason}: {exc}", exc.device, exc.reason)
        device = lines[0]["device"]
        with self._lock:
            if time.monotonic() - self._fleet_at > self.fleet_ttl_s:
                # Orders start and devices are fitted while the gateway runs.
                self.service.refresh()
                self._fleet_at = time.monotonic()
            verdicts, report = self.service.submit(encode(lines))
        refused = [(line, why) for line, why in zip(lines, verdicts) if why is not None]
        for line, why in refused:
            if line["kind"] in FIXES:
                return Verdict(400, f"{why.reason}: {why.words}", device, why.reason)
        for line, why in refused:      # a battery reading refused while its fix was taken: say so, answer 200
            log.info("device=%s %s refused: %s", device, line["kind"], why.reason)
        return Verdict(200, "", device, "stored" if report.events else "resend")

    # Shutdown waits for requests in hand, not for idle keep-alive connections.
    def enter(self) -> None:
        with self._idle:
            self._busy += 1

    def leave(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def drain(self, timeout: float = DRAIN_S) -> bool:
        """Wait for requests in hand to finish; False if some were still running at ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


class _Refused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


class _Handler(BaseHTTPRequestHandler):
    server_version = "emdesk-gateway"
    sys_version = ""
    protocol_version = "HTTP/1.1"          # keep-alive: a phone sends its buffer on one connection
    timeout = READ_TIMEOUT_S
    server: "GatewayServer"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _other(self) -> None:
        try:
            self._body()                     # read it, so the connection stays usable
        except _Refused:
            self.close_connection = True
        except (TimeoutError, OSError):
            self.close_connection = True
        self._answer(405, "method not allowed: send GET or POST to /", None, "method", allow="GET, POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other

    def _serve(self) -> None:
        gateway = self.server.gateway
        gateway.enter()
        try:
            url = urlsplit(self.path)
            if url.path not in ("", "/"):
                body = self._body()          # read it anyway, so the connection stays usable
                self._answer(404, f"no {url.path}: Traccar Client posts to the server root URL, "
                                  f"{self.server.url}", None, "path")
                return
            body = self._body()
            verdict = gateway.handle(url.query, body, self.headers.get("Content-Type"))
            self._answer(verdict.status, verdict.text, verdict.device, verdict.reason)
        except _Refused as exc:
            self.close_connection = True     # the rest of the body is unread
            self._answer(exc.status, exc.text, None, f"http_{exc.status}")
            self._linger()
        except (TimeoutError, socket.timeout):
            self.close_connection = True
            self._answer(408, "request timed out: send the whole request at once", None, "timeout")
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception:
            log.exception("request failed")
            self.close_connection = True
            self._answer(500, "server error: the fix was not stored; send it again later", None, "error")
        finally:
            gateway.leave()

    def _body(self) -> bytes:
        coding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if coding and coding != "identity":
            if coding != "chunked":
                raise _Refused(501, f"transfer encoding {coding!r} is not supported: send Content-Length")
            return self._chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            raise _Refused(400, f"Content-Length {raw!r} is not a number") from None
        if length < 0:
            raise _Refused(400, f"Content-Length {raw!r} is negative")
        if length > MAX_BODY:
            raise _Refused(413, f"body of {length} bytes is over the {MAX_BODY} byte limit: send fewer fixes "
                                "per request")
        body = self.rfile.read(length)
        if len(body) < length:
            raise _Refused(400, f"body ended after {len(body)} of {length} bytes")
        return body

    def _chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1026)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _Refused(400, "bad chunk size in a chunked body") from None
            if size == 0:
                while self.rfile.readline(1026).strip():     # trailers, up to the blank line
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise _Refused(413, f"body over the {MAX_BODY} byte limit: send fewer fixes per request")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _Refused(400, "chunked body ended early")
            parts.append(chunk)
            self.rfile.readline(3)

    def _linger(self) -> None:
        """Let the client read the refusal: closing on unread input would reset the connection
        and lose the answer, so stop sending, then read and drop what it is still sending
        (bounded in bytes and time; nothing of it is kept)."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            deadline, dropped = time.monotonic() + 2.0, 0
            while time.monotonic() < deadline and dropped < 16 * MAX_BODY:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass

    def _answer(self, status: int, text: str, device: str | None, reason: str, *, allow: str | None = None) -> None:
        data = (text + "\n").encode() if text else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if allow:
                self.send_header("Allow", allow)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)
        except (ConnectionError, BrokenPipeError, TimeoutError, socket.timeout):
            self.close_connection = True
        # One line a request; ids and reasons only (logs carry no personal data).
        log.info("%s device=%s status=%d verdict=%s", self.command, device or "-", status, reason)

    def log_message(self, format: str, *args) -> None:      # noqa: A002 - the base class's name
        pass        # our own line is written by _answer; the base class's goes to stderr


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True          # idle keep-alive connections do not hold up shutdown (drain does the rest)

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0, *,
                 read_timeout_s: float = READ_TIMEOUT_S):
        self.gateway = gateway
        handler = type("Handler", (_Handler,), {"timeout": read_timeout_s})
        super().__init__((host, port), handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"


def make_server(gateway: Gateway, host: str = "127.0.0.1", port: int = 0, *,
                read_timeout_s: float = READ_TIMEOUT_S) -> GatewayServer:
    """Bound and listening (``port`` 0: any free port; ``server.url`` says which)."""
    return GatewayServer(gateway, host, port, read_timeout_s=read_timeout_s)


def serve_until_stopped(server: GatewayServer, stop: threading.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop``), then stop taking requests, let those in hand
    finish, and close.  Call from the main thread (signal handlers live there)."""
    stop = stop or threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway",
                              daemon=True)
    worker.start()
    last_sweep = time.monotonic()
    try:
        while not stop.wait(0.5):
            if time.monotonic() - last_sweep >= SWEEP_S:
                last_sweep = time.monotonic()
                try:
                    server.gateway.sweep()
                except Exception:                       # the store busy or failing: try next time
                    log.exception("sweep failed")
    finally:
        server.shutdown()
        if not server.gateway.drain():
            log.warning("shut down with requests still running after %.0f s", DRAIN_S)
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["DRAIN_S", "FLEET_TTL_S", "MAX_BODY", "READ_TIMEOUT_S", "Gateway", "GatewayServer", "Verdict",
           "make_server", "serve_until_stopped"]
