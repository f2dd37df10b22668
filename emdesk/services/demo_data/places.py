"""Where the demo world happens: homes, courts, prisons, police forces, offsets in metres."""
from __future__ import annotations

import math

from emdesk.domain.gazetteer import Town
from emdesk.domain.people import Address, AddressKind

from .gen import Gen

# Inward codes never use C I K M O V in their last two letters (Royal Mail).
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_M_PER_DEG_LAT = 111_320.0


def offset(lat: float, lon: float, distance_m: float, bearing_deg: float) -> tuple[float, float]:
    """A point some metres away on a bearing (flat-earth: fine over a few km)."""
    b = math.radians(bearing_deg)
    dlat = distance_m * math.cos(b) / _M_PER_DEG_LAT
    dlon = distance_m * math.sin(b) / (_M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def approx_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * _M_PER_DEG_LAT
    dx = (lon2 - lon1) * _M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def jitter(gen: Gen, town: Town, max_m: float = 1500.0) -> tuple[float, float]:
    # sqrt spreads points evenly over the disc instead of bunching them at the centre.
    r = max_m * math.sqrt(gen.rng.random())
    return offset(town.lat, town.lon, r, gen.rng.uniform(0, 360))


def inward_code(gen: Gen) -> str:
    return f"{gen.rng.randrange(10)}{gen.pick(_INWARD_LETTERS)}{gen.pick(_INWARD_LETTERS)}"


def postcode(gen: Gen, town: Town) -> str:
    return f"{gen.pick(town.districts)} {inward_code(gen)}"


def street_line(gen: Gen, town: Town) -> str:
    return f"{gen.rng.randint(1, 240)} {gen.pick(town.streets)}"


def home(gen: Gen, town: Town, kind: AddressKind = AddressKind.PRIMARY) -> Address:
    lines = (street_line(gen, town),)
    if gen.chance(0.22):
        lines = (f"Flat {gen.rng.randint(1, 24)}", *lines)
    lat, lon = jitter(gen, town)
    return Address(kind=kind, lines=lines, town=town.name, postcode=postcode(gen, town), lat=lat, lon=lon)


def premises(gen: Gen, town: Town, name: str, kind: AddressKind = AddressKind.INSTALLATION,
             max_m: float = 1500.0) -> Address:
    lat, lon = jitter(gen, town, max_m)
    return Address(kind=kind, lines=(name, street_line(gen, town)), town=town.name,
                   postcode=postcode(gen, town), lat=lat, lon=lon)


# -- Courts ---------------------------------------------------------------------

# Town -> (magistrates' court, Crown Court) that serve it.
_COURTS: dict[str, tuple[str, str]] = {
    "Newcastle upon Tyne": ("Newcastle", "Newcastle"), "Gateshead": ("Newcastle", "Newcastle"),
    "Sunderland": ("Sunderland", "Newcastle"), "Durham": ("Newton Aycliffe", "Durham"),
    "Middlesbrough": ("Teesside", "Teesside"), "Hartlepool": ("Teesside", "Teesside"),
    "Stockton-on-Tees": ("Teesside", "Teesside"), "Darlington": ("Newton Aycliffe", "Durham"),
    "Manchester": ("Manchester and Salford", "Manchester"), "Salford": ("Manchester and Salford", "Manchester"),
    "Liverpool": ("Liverpool and Knowsley", "Liverpool"), "Preston": ("Preston", "Preston"),
    "Blackpool": ("Blackpool", "Preston"), "Blackburn": ("Blackburn", "Preston"),
    "Bolton": ("Bolton", "Bolton"), "Warrington": ("Warrington", "Chester"), "Carlisle": ("Carlisle", "Carlisle"),
    "Leeds": ("Leeds", "Leeds"), "Bradford": ("Bradford and Keighley", "Bradford"),
    "Sheffield": ("Sheffield", "Sheffield"), "Rotherham": ("Sheffield", "Sheffield"),
    "Doncaster": ("Doncaster", "Doncaster"), "Kingston upon Hull": ("Hull and Holderness", "Hull"),
    "York": ("York", "York"), "Huddersfield": ("Kirklees", "Leeds"), "Wakefield": ("Leeds", "Leeds"),
    "Nottingham": ("Nottingham", "Nottingham"), "Mansfield": ("Mansfield", "Nottingham"),
    "Leicester": ("Leicester", "Leicester"), "Derby": ("Southern Derbyshire", "Derby"),
    "Chesterfield": ("Chesterfield", "Derby"), "Lincoln": ("Lincoln", "Lincoln"),
    "Northampton": ("Northampton", "Northampton"), "Birmingham": ("Birmingham", "Birmingham"),
    "Coventry": ("Coventry", "Coventry"), "Wolverhampton": ("Wolverhampton", "Wolverhampton"),
    "Walsall": ("Walsall", "Wolverhampton"), "Dudley": ("Dudley", "Wolverhampton"),
    "Stoke-on-Trent": ("North Staffordshire", "Stoke-on-Trent"), "Shrewsbury": ("Telford", "Shrewsbury"),
    "Worcester": ("Worcester", "Worcester"), "Hereford": ("Hereford", "Hereford"),
    "Norwich": ("Norwich", "Norwich"), "Ipswich": ("Ipswich", "Ipswich"), "Cambridge": ("Cambridge", "Cambridge"),
    "Peterborough": ("Peterborough", "Peterborough"), "Luton": ("Luton and South Bedfordshire", "Luton"),
    "Bedford": ("Luton and South Bedfordshire", "Luton"), "Southend-on-Sea": ("Southend", "Basildon"),
    "Chelmsford": ("Chelmsford", "Chelmsford"), "Colchester": ("Colchester", "Chelmsford"),
    "Croydon": ("Croydon", "Croydon"), "Hackney": ("Thames", "Snaresbrook"), "Lewisham": ("Bromley", "Woolwich"),
    "Ealing": ("Ealing", "Isleworth"), "Brixton": ("Camberwell Green", "Inner London"),
    "Peckham": ("Camberwell Green", "Inner London"), "Tottenham": ("Highbury Corner", "Wood Green"),
    "Islington": ("Highbury Corner", "Wood Green"), "Stratford": ("Stratford", "Snaresbrook"),
    "Wembley": ("Willesden", "Harrow"), "Brighton": ("Brighton", "Lewes"),
    "Southampton": ("Southampton", "Southampton"), "Portsmouth": ("Portsmouth", "Portsmouth"),
    "Reading": ("Reading", "Reading"), "Slough": ("Slough", "Reading"), "Oxford": ("Oxford", "Oxford"),
    "Milton Keynes": ("Milton Keynes", "Aylesbury"), "Maidstone": ("Maidstone", "Maidstone"),
    "Canterbury": ("Canterbury", "Canterbury"), "Bristol": ("Bristol", "Bristol"), "Bath": ("Bath", "Bristol"),
    "Plymouth": ("Plymouth", "Plymouth"), "Exeter": ("Exeter", "Exeter"), "Swindon": ("Swindon", "Swindon"),
    "Gloucester": ("Cheltenham", "Gloucester"), "Cheltenham": ("Cheltenham", "Gloucester"),
    "Bournemouth": ("Poole", "Bournemouth"), "Taunton": ("Taunton", "Taunton"),
    "Cardiff": ("Cardiff", "Cardiff"), "Swansea": ("Swansea", "Swansea"), "Newport": ("Newport", "Newport"),
    "Wrexham": ("Wrexham", "Mold"), "Llandudno": ("Llandudno", "Caernarfon"), "Llanelli": ("Llanelli", "Swansea"),
    "Merthyr Tydfil": ("Merthyr Tydfil", "Merthyr Tydfil"), "Bridgend": ("Cardiff", "Cardiff"),
    "Pontypridd": ("Merthyr Tydfil", "Merthyr Tydfil"),
}
_JUSTICE_CENTRES = {"North Staffordshire"}


def magistrates_court(town: Town) -> str:
    name = _COURTS.get(town.name, (town.name, town.name))[0]
    return f"{name} Justice Centre" if name in _JUSTICE_CENTRES else f"{name} Magistrates' Court"


def crown_court(town: Town) -> str:
    return f"{_COURTS.get(town.name, (town.name, town.name))[1]} Crown Court"


# -- Prisons (local and resettlement prisons that release into each region) ----------

_PRISONS_MEN = {
    "North East": ("Durham", "Holme House", "Northumberland"),
    "North West": ("Manchester", "Liverpool", "Altcourse", "Forest Bank", "Preston"),
    "Yorkshire and the Humber": ("Leeds", "Hull", "Doncaster", "Humber"),
    "East Midlands": ("Nottingham", "Leicester", "Lincoln", "Ranby"),
    "West Midlands": ("Birmingham", "Hewell", "Oakwood", "Featherstone"),
    "East of England": ("Norwich", "Chelmsford", "Peterborough", "Bedford"),
    "London": ("Pentonville", "Wandsworth", "Thameside", "Wormwood Scrubs", "Belmarsh"),
    "South East": ("Lewes", "Winchester", "Elmley", "Bullingdon"),
    "South West": ("Bristol", "Exeter", "Channings Wood", "Guys Marsh"),
    "Wales": ("Cardiff", "Swansea", "Berwyn", "Parc"),
}
_PRISONS_WOMEN = {
    "North East": ("Low Newton",), "North West": ("Styal",), "Yorkshire and the Humber": ("New Hall",),
    "East Midlands": ("Foston Hall",), "West Midlands": ("Drake Hall",), "East of England": ("Peterborough",),
    "London": ("Bronzefield", "Downview"), "South East": ("Send", "East Sutton Park"),
    "South West": ("Eastwood Park",), "Wales": ("Eastwood Park",),
}


def prison(gen: Gen, region: str, female: bool) -> str:
    return "HMP " + gen.pick((_PRISONS_WOMEN if female else _PRISONS_MEN)[region])


# -- Police forces ----------------------------------------------------------------

# name -> (Home Office force code, e-mail domain)
FORCES: dict[str, tuple[int, str]] = {
    "Metropolitan Police Service": (1, "met.police.uk"), "Cumbria Constabulary": (3, "cumbria.police.uk"),
    "Lancashire Constabulary": (4, "lancashire.police.uk"), "Merseyside Police": (5, "merseyside.police.uk"),
    "Greater Manchester Police": (6, "gmp.police.uk"), "Cheshire Constabulary": (7, "cheshire.police.uk"),
    "Northumbria Police": (10, "northumbria.police.uk"), "Durham Constabulary": (11, "durham.police.uk"),
    "North Yorkshire Police": (12, "northyorkshire.police.uk"),
    "West Yorkshire Police": (13, "westyorkshire.police.uk"),
    "South Yorkshire Police": (14, "southyorks.police.uk"), "Humberside Police": (16, "humberside.police.uk"),
    "Cleveland Police": (17, "cleveland.police.uk"), "West Midlands Police": (20, "westmidlands.police.uk"),
    "Staffordshire Police": (21, "staffordshire.police.uk"), "West Mercia Police": (22, "westmercia.police.uk"),
    "Derbyshire Constabulary": (30, "derbyshire.police.uk"),
    "Nottinghamshire Police": (31, "nottinghamshire.police.uk"), "Lincolnshire Police": (32, "lincs.police.uk"),
    "Leicestershire Police": (33, "leics.police.uk"), "Northamptonshire Police": (34, "northants.police.uk"),
    "Cambridgeshire Constabulary": (35, "cambs.police.uk"), "Norfolk Constabulary": (36, "norfolk.police.uk"),
    "Suffolk Constabulary": (37, "suffolk.police.uk"), "Bedfordshire Police": (40, "bedfordshire.police.uk"),
    "Essex Police": (42, "essex.police.uk"), "Thames Valley Police": (43, "thamesvalley.police.uk"),
    "Hampshire and Isle of Wight Constabulary": (44, "hampshire.police.uk"), "Kent Police": (46, "kent.police.uk"),
    "Sussex Police": (47, "sussex.police.uk"), "Devon and Cornwall Police": (50, "dc.police.uk"),
    "Avon and Somerset Police": (52, "avonandsomerset.police.uk"),
    "Gloucestershire Constabulary": (53, "gloucestershire.police.uk"), "Wiltshire Police": (54, "wiltshire.police.uk"),
    "Dorset Police": (55, "dorset.police.uk"), "North Wales Police": (60, "northwales.police.uk"),
    "Gwent Police": (61, "gwent.police.uk"), "South Wales Police": (62, "south-wales.police.uk"),
    "Dyfed-Powys Police": (63, "dyfed-powys.police.uk"),
}
_COUNTY_FORCE = {
    "Tyne and Wear": "Northumbria Police", "County Durham": "Durham Constabulary",
    "North Yorkshire": "North Yorkshire Police", "Greater Manchester": "Greater Manchester Police",
    "Merseyside": "Merseyside Police", "Lancashire": "Lancashire Constabulary", "Cheshire": "Cheshire Constabulary",
    "Cumbria": "Cumbria Constabulary", "West Yorkshire": "West Yorkshire Police",
    "South Yorkshire": "South Yorkshire Police", "East Riding of Yorkshire": "Humberside Police",
    "Nottinghamshire": "Nottinghamshire Police", "Leicestershire": "Leicestershire Police",
    "Derbyshire": "Derbyshire Constabulary", "Lincolnshire": "Lincolnshire Police",
    "Northamptonshire": "Northamptonshire Police", "West Midlands": "West Midlands Police",
    "Staffordshire": "Staffordshire Police", "Shropshire": "West Mercia Police",
    "Worcestershire": "West Mercia Police", "Herefordshire": "West Mercia Police",
    "Norfolk": "Norfolk Constabulary", "Suffolk": "Suffolk Constabulary",
    "Cambridgeshire": "Cambridgeshire Constabulary", "Bedfordshire": "Bedfordshire Police", "Essex": "Essex Police",
    "Greater London": "Metropolitan Police Service", "East Sussex": "Sussex Police",
    "Hampshire": "Hampshire and Isle of Wight Constabulary", "Berkshire": "Thames Valley Police",
    "Oxfordshire": "Thames Valley Police", "Buckinghamshire": "Thames Valley Police", "Kent": "Kent Police",
    "Bristol": "Avon and Somerset Police", "Somerset": "Avon and Somerset Police",
    "Devon": "Devon and Cornwall Police", "Wiltshire": "Wiltshire Police",
    "Gloucestershire": "Gloucestershire Constabulary", "Dorset": "Dorset Police", "Cardiff": "South Wales Police",
    "Swansea": "South Wales Police", "Bridgend": "South Wales Police", "Merthyr Tydfil": "South Wales Police",
    "Rhondda Cynon Taf": "South Wales Police", "Newport": "Gwent Police", "Wrexham": "North Wales Police",
    "Conwy": "North Wales Police", "Carmarthenshire": "Dyfed-Powys Police",
}
# Teesside is policed by Cleveland, whatever its ceremonial county.
_TOWN_FORCE = {"Middlesbrough": "Cleveland Police", "Hartlepool": "Cleveland Police",
               "Stockton-on-Tees": "Cleveland Police"}


def police_force(town: Town) -> str:
    return _TOWN_FORCE.get(town.name) or _COUNTY_FORCE.get(town.county, "Metropolitan Police Service")


def police_urn(gen: Gen, town: Town, year: int) -> str:
    """A Unique Reference Number as on a charge: force code, station, serial, year."""
    code = FORCES[police_force(town)][0]
    station = town.name[:2].upper()
    return f"{code:02d}{station}{gen.rng.randrange(10000, 99999)}{year % 100:02d}"
