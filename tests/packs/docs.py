"""Pack documents built by hand, as the pack service would fill them: a bail one for a
Welsh name and a non-bail one (times in UTC; 3 Dec 2026 is GMT, 2 Jul 2026 is BST)."""
from __future__ import annotations

import base64
import io
import zlib
import struct
from datetime import date, datetime, timezone

from emdesk.domain.packs import (Agency, Amendment, Fact, HealthReading, PackDocument, PackIncident, PackMap,
                                 PackOrder, PackSubject, PastBreach, Summary, TimelineEntry)

UTC = timezone.utc
WELSH = "Siân Llŷr ap Gwŷn"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def tiny_png(width: int = 40, height: int = 24) -> bytes:
    """A small solid PNG made by hand (no imaging library needed)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes((60, 120, 200)) * width for _ in range(height))
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
    out.write(chunk(b"IDAT", zlib.compress(rows)))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


def bail_doc(**changes) -> PackDocument:
    start, end = at(12, 3, 0, 10), at(12, 3, 1, 55)
    doc = PackDocument(
        pack_id="BP-7K2M9Q4X", version=1, template="bail",
        generated_at=at(12, 3, 9, 5), generated_by="Rhian Operator",
        agency=Agency(responder="police", name="Police", organisation="North Wales Police",
                      contact="PC Dafydd Ellis", phone="0300 330 0101", email="bail.enforcement@example.police.uk"),
        subject=PackSubject(subject_id="S-1", name=WELSH, date_of_birth=date(1994, 5, 17),
                            address="2 Ffordd Glyndŵr, Caernarfon LL55 1AA", aliases=("Sion Llyr",),
                            risk_level="high", risk_notes="domestic abuse bail; victim lives 1.2 km away"),
        order=PackOrder(order_id="O-1", reference="BAIL/2026/0417", cohort="Court bail", order_type="Bail",
                        issuing_body="Caernarfon Magistrates' Court", start=date(2026, 11, 20), end=date(2027, 2, 20),
                        conditions=("Curfew 19:00-07:00 every day at 2 Ffordd Glyndŵr, Caernarfon",
                                    "Not to enter the exclusion zone around Stryd y Plas, Bangor"),
                        devices=("GPS tag T-1042", "Home unit H-2201")),
        summary=Summary(
            headline=f"{WELSH} was away from the curfew address for 1 h 45 min on the night of 2 to 3 Dec 2026.",
            who=WELSH, condition="Curfew 19:00-07:00 at 2 Ffordd Glyndŵr, Caernarfon",
            started_at=start, ended_at=end, duration_seconds=6300, period_seconds=6300,
            not_technical="the tag reported GPS fixes 3.4 km from home throughout; battery 81%, in contact, "
                          "no tamper; the home unit was on mains.",
            confidence="high",
            risk="High: domestic abuse bail; the trail passed within 400 m of the victim's home.",
            decision="Whether to arrest for breach of bail (Bail Act s.7) or take no further action; "
                     "record each RADU step.",
            respond_by=at(12, 4, 12), notification_due=at(12, 3, 10), pack_due=at(12, 4, 12),
            facts=(Fact(label="Previous breaches", value="1 in the last 30 days (warning given)"),)),
        incidents=(PackIncident(incident_id="INC-1", condition="Curfew", codes=("CURFEW_ABSENT",),
                                period_start=at(12, 2, 7), started_at=start, ended_at=end, seconds=6300,
                                period_seconds=6300, status="escalated", priority=1,
                                reasons=("absent 1 h 45 min",), detail="left at 00:10, home at 01:55",
                                decided_by="Rhian Operator"),),
        timeline=(TimelineEntry(at=at(12, 3, 0, 10), kind="zone", text="left the curfew address"),
                  TimelineEntry(at=at(12, 3, 0, 25), kind="alert", text="CURFEW_ABSENT raised"),
                  TimelineEntry(at=at(12, 3, 1, 55), kind="zone", text="back at the curfew address"),
                  TimelineEntry(at=at(12, 3, 7, 40), kind="incident", text="escalated to North Wales Police")),
        device_health=(HealthReading(serial="T-1042", kind="GPS tag", battery="81% at 00:00, not low",
                                     comms="in contact throughout (last 01:58)", tamper="no strap or case tamper",
                                     verdict="rules out a technical cause"),),
        history=(PastBreach(incident_id="INC-0", started_at=at(11, 28, 21), condition="Curfew", seconds=1500,
                            pack_id="BP-11111111", outcome="formal warning"),),
        map=PackMap(start=at(12, 3, 0), end=at(12, 3, 2), png_base64=base64.b64encode(tiny_png()).decode(),
                    caption="Trail 00:00-02:00; the curfew address and exclusion zone"),
    )
    from msgspec.structs import replace
    return replace(doc, **changes) if changes else doc


def non_bail_doc(**changes) -> PackDocument:
    start = at(7, 2, 22, 30)            # BST: 23:30 UK time
    doc = PackDocument(
        pack_id="BP-NB000001", version=2, template="non_bail",
        generated_at=at(7, 3, 8), generated_by="Sam Supervisor",
        agency=Agency(responder="probation", name="Probation Service", organisation="Yorkshire Probation",
                      contact="Aoife Ní Bhriain", phone="0113 000 0000"),
        subject=PackSubject(subject_id="S-2", name="Zoë Ødegård-Nuñez", address="14 Mill Lane, Leeds LS1 1AA"),
        order=PackOrder(order_id="O-2", reference="CO/2026:88 <leeds>", cohort="Community order",
                        conditions=("Curfew 21:00-06:00 at 14 Mill Lane",)),
        summary=Summary(
            headline="Zoë Ødegård-Nuñez was out after curfew on 2 Jul 2026 and is still out.",
            who="Zoë Ødegård-Nuñez", condition="Curfew 21:00-06:00 at 14 Mill Lane",
            started_at=start, ended_at=None, duration_seconds=3600, period_seconds=5400,
            not_technical="the home unit saw the tag leave; no power or comms faults.", confidence="medium",
            risk="Medium.", decision="The outcome: engage, warning, or return to court.",
            respond_by=None, notification_due=at(7, 3, 9), pack_due=at(7, 4, 11), special=True),
        incidents=(PackIncident(incident_id="INC-9", condition="Curfew", period_start=at(7, 2, 6),
                                started_at=start, seconds=3600, period_seconds=5400),),
        map=PackMap(start=start, end=at(7, 2, 23, 30), note="no map: the map could not be drawn (no display)"),
        amendment=Amendment(previous_version=1, reason="a second incident added"),
    )
    from msgspec.structs import replace
    return replace(doc, **changes) if changes else doc
