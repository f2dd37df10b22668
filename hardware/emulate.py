"""Run emulated devices from the command line.

    python -m hardware.emulate --kind hmu --serial HMU-000123
    python -m hardware.emulate --device hmu:HMU-000123 --device rf_tag:RF-104233:strap_open
    python -m hardware.emulate --kind gps_tag --listen 127.0.0.1:4001 --corrupt-every 5

Prints one port per device, one per line, in the order given, and nothing else on
stdout (the first line is the first device's port, so scripts can read it).  Pty paths
open like /dev/ttyUSB0; with --listen the ports are socket://HOST:PORT, PORT+1, ...
Devices started together share one radio (a tag can hear its home unit).  Runs until
interrupted (Ctrl-C, SIGTERM).  Fault flags apply to every device; per-device faults go
after a second colon in --device.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import fields

from emdesk.domain.devices import DeviceKind

from .air import Air
from .emulator import EmulatedDevice
from .factory import DEFAULT_SERIAL_PREFIX, EMULATOR_MANUFACTURER, Manufacturer
from .faults import UNPLUG_HOW, UNPLUG_WHEN, Faults

_HELP = {
    "corrupt_every": "flip one bit in every Nth frame sent",
    "drop_every": "drop one byte from every Nth frame sent",
    "noise_every": "send line noise before every Nth frame",
    "delay": "seconds to wait before sending each frame",
    "trickle": "seconds between bytes of a frame",
    "lose_request": "the Nth request never arrives (once)",
    "lose_response": "the answer to the Nth request is lost (once)",
    "unplug_at": "cut the line at the Nth request",
    "unplug_when": f"cut {' or '.join(UNPLUG_WHEN)} the device acts on that request",
    "unplug_how": "silent: stop answering; vanish: close the pty (the port disappears)",
    "flat_battery": "battery at 3%% and not charging",
    "strap_open": "strap open",
    "case_open": "case open (tamper)",
    "paired_elsewhere": "already paired with this other serial",
    "unapproved_firmware": "firmware not on the approved list",
    "counterfeit": "cannot answer the authenticity challenge",
    "out_of_range": "its radio hears nothing",
    "lose_radio_ack": "the partner commits over the radio but its acknowledgement of the first N commits is lost",
    "lose_ack": "the Nth event acknowledgement from the host is lost (once)",
    "protocol_version": "speak only this protocol version (a newer or older device)",
    "frame_version": "send frames in this frame format (a newer device)",
    "max_payload": "take requests of at most N payload bytes",
    "no_gps_fix": "GPS receiver never gets a fix",
    "no_mains": "home unit unplugged from the wall",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hardware.emulate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = [k.value for k in DeviceKind]
    p.add_argument("--kind", choices=kinds, help="one device of this kind")
    p.add_argument("--serial", help="its serial number (default: made up)")
    p.add_argument("--device", action="append", default=[], metavar="KIND:SERIAL[:FAULTS]",
                   help="a device on its own port; repeat for several (e.g. hmu:HMU-000123)")
    p.add_argument("--listen", metavar="HOST:PORT", type=_address,
                   help="serve socket://HOST:PORT instead of a pty (port 0: any free port)")
    p.add_argument("--key-file", metavar="PATH",
                   help="the factory's signing key file to certify the devices with (default: the emulator test key)")
    p.add_argument("--write-key-file", metavar="PATH",
                   help="write the manufacturer key file for emdesk (public key and revocation list) and continue")
    p.add_argument("--revoke", action="append", default=[], metavar="SERIAL",
                   help="list this serial as revoked in the key file written (repeat for several)")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC", help="faults as text, e.g. strap_open,delay=0.5")
    p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    g = p.add_argument_group("faults (apply to every device)")
    for f in fields(Faults):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            g.add_argument(flag, action="store_true", default=None, help=_HELP.get(f.name))
        elif f.name == "unplug_when":
            g.add_argument(flag, choices=UNPLUG_WHEN, help=_HELP.get(f.name))
        elif f.name == "unplug_how":
            g.add_argument(flag, choices=UNPLUG_HOW, help=_HELP.get(f.name))
        else:
            typ = {"int": int, "float": float}.get(f.type, str)
            g.add_argument(flag, type=typ, metavar="N" if typ is int else "S" if typ is float else "SERIAL",
                           help=_HELP.get(f.name))
    return p


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: give HOST:PORT with a port from 0 to 65535, "
                                         "e.g. 127.0.0.1:4001")
    return host or "127.0.0.1", int(port)


def _faults(args: argparse.Namespace) -> Faults:
    base = Faults()
    for spec in args.fault:
        base = Faults.parse(spec, base)
    changes = ",".join(f"{f.name}={getattr(args, f.name)}" for f in fields(Faults) if getattr(args, f.name) is not None)
    return Faults.parse(changes, base) if changes else base


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    try:
        common = _faults(args)
        specs: list[tuple[DeviceKind, str | None, Faults]] = []
        if args.kind:
            specs.append((DeviceKind(args.kind), args.serial, common))
        for d in args.device:
            parts = d.split(":", 2)
            kind = DeviceKind(parts[0])
            serial = parts[1] if len(parts) > 1 and parts[1] else None
            specs.append((kind, serial, Faults.parse(parts[2], common) if len(parts) > 2 else common))
    except ValueError as e:
        p.error(str(e))
    if not specs and not args.write_key_file:
        p.error("say which device(s): --kind KIND or --device KIND:SERIAL")
    maker = EMULATOR_MANUFACTURER
    if args.key_file:
        try:
            with open(args.key_file, encoding="utf-8") as fh:
                maker = Manufacturer.from_signing_file(fh.read())
        except (OSError, ValueError, KeyError) as e:
            p.error(f"--key-file {args.key_file}: {e}")
    if args.write_key_file:
        try:
            with open(args.write_key_file, "w", encoding="utf-8") as fh:
                fh.write(maker.key_file_json(args.revoke))
        except OSError as e:
            p.error(f"--write-key-file {args.write_key_file}: {e.strerror or e}")
        print(f"wrote the manufacturer key file {args.write_key_file}", file=sys.stderr, flush=True)
        if not specs:
            return 0
    listen = args.listen
    if listen and listen[1] and listen[1] + len(specs) - 1 > 65535:
        p.error(f"--listen: {len(specs)} devices need ports {listen[1]} to {listen[1] + len(specs) - 1}")
    air = Air()
    devices: list[EmulatedDevice] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        for i, (kind, serial, faults) in enumerate(specs):
            addr = (listen[0], listen[1] + i if listen[1] else 0) if listen else None
            serial = serial or f"{DEFAULT_SERIAL_PREFIX[kind]}-{100000 + i:06d}"
            dev = EmulatedDevice.start(kind, serial, faults, air=air, manufacturer=maker, listen=addr)
            devices.append(dev)
            print(dev.port, flush=True)
            logging.getLogger("hardware").info("%s %s on %s", kind.value, serial, dev.port)
        stop.wait()
    finally:
        for dev in devices:
            dev.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
