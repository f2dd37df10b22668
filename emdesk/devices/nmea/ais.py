"""AIS sharing the port with the GNSS receiver, as far as it changes gpsd's fixes.

AIS sentences (``!AIVDM``) never carry our position.  They matter only through gpsd's
"split24" output policy: while the latest AIS message is half of a type 24 (static
data, part A or B not yet paired), gpsd withholds the JSON of the next report -- TPV
included -- so that epoch has no fix.
"""
from __future__ import annotations

from .readers import atoi

_PART_A_SLOTS = 8          # gpsd keeps 8 type-24 part-A slots
# gpsd assembles a multi-sentence message in a 2,048-byte bit buffer (16,384 bits, 2,730
# six-bit characters) and drops a message that would overflow it.  Keeping to the same
# limit also keeps repeated fragments from growing a buffer without end.
_MAX_PAYLOAD = 16384 // 6
_CHANNELS = 4              # fragment buffers kept at once (gpsd: one per radio channel)


class Split24:
    """Tracks whether the next report would be withheld."""

    __slots__ = ("_frags", "_parts_a", "partial", "since_report")

    def __init__(self) -> None:
        self._frags: dict[str, str] = {}
        self._parts_a: dict[int, bool] = {}
        self.since_report = False      # an AIS message came in since the last report
        self.partial = False           # ...and it was half of a type 24

    @property
    def withholds(self) -> bool:
        return self.since_report and self.partial

    def feed(self, f: list[str]) -> None:
        """One ``!AIVDM``/``!AIVDO`` sentence's fields."""
        count = atoi(f[1])
        number = atoi(f[2])
        channel = f[4]
        payload = f[5]
        frags = self._frags
        if count > 1:
            if number == 1:
                if len(payload) > _MAX_PAYLOAD:
                    frags.pop(channel, None)
                    return
                if channel not in frags and len(frags) >= _CHANNELS:
                    del frags[next(iter(frags))]
                frags[channel] = payload
                return
            before = frags.get(channel, "")
            if len(before) + len(payload) > _MAX_PAYLOAD:
                frags.pop(channel, None)           # overlong: gpsd drops the message
                return
            payload = before + payload
            if number < count:
                if channel not in frags and len(frags) >= _CHANNELS:
                    del frags[next(iter(frags))]
                frags[channel] = payload
                return
        if not payload:
            return
        self.since_report = True
        words = [(ord(c) - 48) - (8 if ord(c) - 48 > 40 else 0) for c in payload[:7]]
        if words[0] != 24 or len(words) < 7:
            self.partial = False
            return
        bits = 0
        for w in words:
            bits = (bits << 6) | (w & 0x3F)
        bits <<= 6 * (7 - len(words))
        mmsi = (bits >> 4) & 0x3FFFFFFF          # bits 8..37 of 42
        part = (bits >> 2) & 0x3                  # bits 38..39
        if part == 0:
            self._parts_a[mmsi] = True
            if len(self._parts_a) > _PART_A_SLOTS:
                del self._parts_a[next(iter(self._parts_a))]
            self.partial = True
        else:
            self.partial = self._parts_a.pop(mmsi, None) is None
