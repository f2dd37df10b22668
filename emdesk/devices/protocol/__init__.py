"""The emdesk device wire protocol, version 2 (spec: hardware/PROTOCOL.md).

``frame``: bytes <-> frames (SOF, version, request id, command, length, payload, CRC-16).
``codes``: command, status, event and self-test numbers.  ``messages``: typed payloads.
``config``: the monitoring configuration blob.  Pure Python, no I/O.  The emulator in
``hardware/`` uses this same codec; the golden vectors in PROTOCOL.md pin it down.
"""
from .codes import (
    CODE_KINDS, KIND_CODES, PRIVILEGED, RESPONSE_BIT, CheckOutcome, Command, EventCode,
    SelfTestId, Status, command_name,
)
from .config import SUPPORTED, ConfigTag, DeviceConfig, UnplaceableCondition, configs_for
from .frame import (
    EVENT_RID, MAX_FRAME, MAX_PAYLOAD, SOF, VERSION, Frame, FrameDecoder, ProtocolError,
    ProtocolErrorKind, crc16_ccitt, encode_frame,
)
from .messages import (
    CONFIG_CHUNK_MAX, LINK_KEY_LEN, MAC_LEN, NO_PAIRING, NONCE_LEN, PAIRING_ID_LEN,
    PROTOCOL_VERSION, SEALED_LINK_KEY_LEN, SHARE_LEN, SIGNATURE_LEN, AuthChallenge, AuthConfirm,
    AuthResponse, CheckResult, ConfigAck, ConfigChunk, DeviceEvent, DeviceIdentity, DeviceStatus,
    ErrorDetail, EventAck, EventNotice, EventsPage,
    FactoryReset, GetEvents, Hello, PairCommitted, PairingRef, PairingState, PairPrepare,
    SelfTestReport, SetTime, StatusFlag, Text, decode_response, encode_response,
)
from .wire import PayloadError, Reader, Writer

__all__ = [
    "CODE_KINDS",
    "KIND_CODES",
    "PRIVILEGED",
    "RESPONSE_BIT",
    "CheckOutcome",
    "Command",
    "EventCode",
    "SelfTestId",
    "Status",
    "command_name",
    "SUPPORTED",
    "ConfigTag",
    "DeviceConfig",
    "UnplaceableCondition",
    "configs_for",
    "EVENT_RID",
    "MAX_FRAME",
    "MAX_PAYLOAD",
    "SOF",
    "VERSION",
    "Frame",
    "FrameDecoder",
    "ProtocolError",
    "ProtocolErrorKind",
    "crc16_ccitt",
    "encode_frame",
    "CONFIG_CHUNK_MAX",
    "LINK_KEY_LEN",
    "MAC_LEN",
    "NO_PAIRING",
    "NONCE_LEN",
    "PAIRING_ID_LEN",
    "PROTOCOL_VERSION",
    "SEALED_LINK_KEY_LEN",
    "SHARE_LEN",
    "SIGNATURE_LEN",
    "EventAck",
    "EventNotice",
    "AuthChallenge",
    "AuthConfirm",
    "AuthResponse",
    "CheckResult",
    "ConfigAck",
    "ConfigChunk",
    "DeviceEvent",
    "DeviceIdentity",
    "DeviceStatus",
    "ErrorDetail",
    "EventsPage",
    "FactoryReset",
    "GetEvents",
    "Hello",
    "PairCommitted",
    "PairingRef",
    "PairingState",
    "PairPrepare",
    "SelfTestReport",
    "SetTime",
    "StatusFlag",
    "Text",
    "decode_response",
    "encode_response",
    "PayloadError",
    "Reader",
    "Writer",
]
