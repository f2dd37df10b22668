"""gpsd's report mask bits (``gps_mask_t``), fix modes and the constants its NMEA driver uses.

Only the bits that change behaviour here are kept.  A sentence handler returns a mask
saying what the sentence set; the assembler decides from it whether a new reporting
cycle starts (CLEAR), whether the fix changes (TIME, LATLON, MODE, ALTITUDE, SPEED) and
whether gpsd would report (REPORT).
"""
from __future__ import annotations

import math

NAN = math.nan

ONLINE = 1 << 0
TIME = 1 << 1
LATLON = 1 << 2
ALTITUDE = 1 << 3
SPEED = 1 << 4
TRACK = 1 << 5
CLIMB = 1 << 6
STATUS = 1 << 7
MODE = 1 << 8
DOP = 1 << 9
HERR = 1 << 10
VERR = 1 << 11
ATTITUDE = 1 << 12
SATELLITE = 1 << 13
USED = 1 << 14
GST = 1 << 15
MAGTRACK = 1 << 16
NAVDATA = 1 << 17
VNED = 1 << 18
OSCILLATOR = 1 << 19
PERR = 1 << 20
CLEAR = 1 << 22
REPORT = 1 << 23
DEPTH = 1 << 24    # gpsd reuses ALTITUDE_SET for water depth; kept apart here

#: Bits that make gpsd_poll() touch the fix (anything else leaves it as it was).
FIX_BITS = CLEAR | TIME | LATLON | MODE | ALTITUDE | SPEED

MODE_NOT_SEEN = 0
MODE_NO_FIX = 1
MODE_2D = 2
MODE_3D = 3

KNOTS_TO_MPS = 0.51444444
MPS_TO_KPH = 3.6
NMEA_MAX = 130           # gpsd ignores longer sentences (with their line ending)
MAXCHANNELS = 185
GPS_EPOCH = 315964800    # 1980-01-06
WKRO_LIMIT = 1483228800  # 2017-01-01: leap second 18 began
WKRO_STEP = 619315200    # 1024 weeks
NS = 1_000_000_000
