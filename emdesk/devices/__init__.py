"""Serial drivers for tags and home monitoring units: pure Python + pyserial, no Qt.

Sits beside ``services``: may use ``domain`` and ``store``, never ``ui``.

- ``protocol/``  wire protocol v2 (frames, messages, config blob); spec: hardware/PROTOCOL.md
- ``transport``  open any pyserial URL (``open_port``), ``list_ports`` / ``manual_port``
- ``link``       ``DeviceLink``: request/response with ids, timeouts, retries, resync, events
- ``events``     events numbered and acknowledged: ``EventCursor`` (the last stored, per device)
- ``client``     ``DeviceClient``: one typed method per command
- ``errors``     ``DeviceError`` and subclasses: code, what happened, what to do
- ``auth``       ``ManufacturerKey`` (public key and revocation list) and ``authenticate``
                 (device certificates, Ed25519 proof, X25519 session key, sealed link key)
- ``pairing``    ``pair_devices`` / ``PairingProcedure``: all-or-nothing pairing, ``PairingResult``
- ``bench``      ``diagnose``, ``download_events``, ``unpair``, ``factory_reset``
- ``worker``     ``DeviceWorker``: the one thread all device I/O runs on
- ``firmware``   ``ApprovedFirmware`` and the default approved list
"""
