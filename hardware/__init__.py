"""Emulated monitoring devices (tags, home units) that speak over a real serial line.

- ``emulator``  ``EmulatedDevice.start(kind, serial, faults)``: a pty (or socket) served by a thread
- ``unit``      the device itself: state, event log, and its answer to each command
- ``air``       the radio between a tag and its home unit (devices in one process)
- ``faults``    ``Faults``: line and device fault switches
- ``factory``   models, firmware versions, each device's key pair and manufacturer certificate
- ``nmea``      RMC/GGA/GSA sentences as a GPS receiver writes them
- ``emulate``   the command line: ``python -m hardware.emulate --kind hmu``
- ``testing``   helpers for tests (test key, fast link policy, a tag+HMU pair)
- ``fleet``     a labelled day of telemetry from a store's wearers: ``python -m hardware.fleet``

The wire protocol is in ``PROTOCOL.md``; the emulator uses emdesk's own codec
(``emdesk.devices.protocol``), held to the golden vectors in that document.
"""
