"""Typed commands over a DeviceLink: one method per protocol command, no policy.

The pairing procedure and the bench functions are written against this class; it
turns payload decoding problems into ProtocolFault so callers only see DeviceError.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from .errors import DeviceRefused, ProtocolFault, UnsupportedProtocol
from .link import DeviceLink
from .protocol import messages as m
from .protocol.codes import Command, Status, command_name
from .protocol.wire import PayloadError

T = TypeVar("T")


class DeviceClient:
    def __init__(self, link: DeviceLink) -> None:
        self.link = link
        self.identity: m.DeviceIdentity | None = None
        self.session_key: bytes | None = None     # set by ``auth.authenticate``

    @property
    def port(self) -> str:
        return self.link.name

    @property
    def serial(self) -> str | None:
        return self.identity.serial if self.identity else None

    def _call(self, cmd: Command, payload: bytes, decode: Callable[[bytes], T], **kw) -> T:
        body = self.link.request(cmd, payload, **kw)
        try:
            return decode(body)
        except PayloadError as e:
            raise ProtocolFault(f"the device on {self.port} sent an answer to {command_name(cmd)} that does not decode ({e})",
                                "press Retry; if it happens again, update the device firmware or report a software fault",
                                port=self.port, serial=self.serial) from e

    def hello(self, **kw) -> m.DeviceIdentity:
        """Start a session; the device says who it is and which protocol version it speaks.

        Raises UnsupportedProtocol, worded for the user, if that is not emdesk's."""
        self.session_key = None
        try:
            ident = self._call(Command.HELLO, m.Hello().encode(), m.DeviceIdentity.decode, **kw)
        except DeviceRefused as e:
            if e.status == Status.UNSUPPORTED_VERSION:
                match = re.search(r"\d+", e.what.partition("protocol version")[2] or "")
                raise UnsupportedProtocol.on(self.port, int(match.group()) if match else None) from e
            raise
        if ident.protocol_version != m.PROTOCOL_VERSION:
            raise UnsupportedProtocol.on(self.port, ident.protocol_version, serial=ident.serial)
        self.identity = ident
        self.link.serial = ident.serial
        self.link.max_payload = min(self.link.max_payload, ident.max_payload)
        return ident

    def status(self, **kw) -> m.DeviceStatus:
        return self._call(Command.STATUS, b"", m.DeviceStatus.decode, **kw)

    def set_time(self, unix: int) -> None:
        self._call(Command.SET_TIME, m.SetTime(unix).encode(), m.empty)

    def auth_challenge(self, host_nonce: bytes, host_share: bytes) -> m.AuthResponse:
        return self._call(Command.AUTH_CHALLENGE, m.AuthChallenge(host_nonce, host_share).encode(),
                          m.AuthResponse.decode)

    def auth_confirm(self, mac: bytes) -> None:
        self._call(Command.AUTH_CONFIRM, m.AuthConfirm(mac).encode(), m.empty)

    def pair_prepare(self, req: m.PairPrepare) -> None:
        self._call(Command.PAIR_PREPARE, req.encode(), m.empty)

    def pair_commit(self, pairing_id: bytes, **kw) -> m.PairCommitted:
        return self._call(Command.PAIR_COMMIT, m.PairingRef(pairing_id).encode(), m.PairCommitted.decode, **kw)

    def pair_abort(self, pairing_id: bytes = m.NO_PAIRING, **kw) -> None:
        self._call(Command.PAIR_ABORT, m.PairingRef(pairing_id).encode(), m.empty, **kw)

    def unpair(self) -> None:
        self._call(Command.UNPAIR, b"", m.empty)

    def write_config(self, pairing_id: bytes, blob: bytes, *, chunk: int = m.CONFIG_CHUNK_MAX) -> m.ConfigAck:
        """Send a configuration blob in chunks (as large as the device takes); returns the
        final acknowledgement."""
        chunk = max(1, min(chunk, self.link.max_payload - m.CONFIG_CHUNK_HEADER))
        ack = m.ConfigAck(0, False)
        offset = 0
        while True:
            part = blob[offset:offset + chunk]
            ack = self._call(Command.WRITE_CONFIG, m.ConfigChunk(pairing_id, len(blob), offset, part).encode(),
                             m.ConfigAck.decode)
            offset += len(part)
            if offset >= len(blob):
                return ack

    def self_test(self, **kw) -> m.SelfTestReport:
        return self._call(Command.SELF_TEST, b"", m.SelfTestReport.decode, **kw)

    def get_events(self, from_seq: int, max_count: int = 16) -> m.EventsPage:
        return self._call(Command.GET_EVENTS, m.GetEvents(from_seq, max_count).encode(), m.EventsPage.decode)

    def get_position(self) -> str:
        return self._call(Command.GET_POSITION, b"", lambda b: m.Text.decode(b).text)

    def factory_reset(self, confirm_serial: str) -> None:
        self._call(Command.FACTORY_RESET, m.FactoryReset(confirm_serial).encode(), m.empty)
