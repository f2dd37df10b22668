"""Real English and Welsh towns the demo world and the built-in geocoder know.

Coordinates are town centres (WGS84); postcode districts are real outward codes
that serve each town; regions are the EM service's regions (the ONS regions of
England, plus Wales). A district belongs to one town only, so a postcode's outward
code is enough to place it.
"""
from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files

import msgspec

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands",
    "West Midlands", "East of England", "London", "South East", "South West", "Wales",
)


class Town(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    county: str
    region: str                       # one of REGIONS
    country: str                      # "England" or "Wales"
    lat: float
    lon: float
    districts: tuple[str, ...]        # postcode outward codes, e.g. ("LS1", "LS2")
    streets: tuple[str, ...] = ()     # real street names, for demo addresses


def _t(name: str, county: str, region: str, lat: float, lon: float,
       districts: tuple[str, ...], streets: tuple[str, ...]) -> Town:
    country = "Wales" if region == "Wales" else "England"
    return Town(name=name, county=county, region=region, country=country, lat=lat, lon=lon,
                districts=districts, streets=streets)


_NE, _NW, _YH = "North East", "North West", "Yorkshire and the Humber"
_EM, _WM, _EE = "East Midlands", "West Midlands", "East of England"
_LDN, _SE, _SW, _WAL = "London", "South East", "South West", "Wales"
_GL = "Greater London"

TOWNS: tuple[Town, ...] = (
    # North East
    _t("Newcastle upon Tyne", "Tyne and Wear", _NE, 54.9783, -1.6178, ("NE1", "NE2", "NE4", "NE6", "NE15"),
       ("Northumberland Street", "Grey Street", "Westgate Road", "Shields Road", "Osborne Road", "Scotswood Road")),
    _t("Gateshead", "Tyne and Wear", _NE, 54.9527, -1.6034, ("NE8", "NE9", "NE10"),
       ("Durham Road", "Saltwell Road", "Coatsworth Road", "High Street", "Askew Road")),
    _t("Sunderland", "Tyne and Wear", _NE, 54.9061, -1.3811, ("SR1", "SR2", "SR4", "SR5"),
       ("Fawcett Street", "High Street West", "Chester Road", "Hylton Road", "Roker Avenue", "Durham Road")),
    _t("Durham", "County Durham", _NE, 54.7761, -1.5733, ("DH1", "DH7"),
       ("Claypath", "North Road", "Saddler Street", "Gilesgate", "Sherburn Road")),
    _t("Middlesbrough", "North Yorkshire", _NE, 54.5742, -1.2350, ("TS1", "TS3", "TS4", "TS5"),
       ("Linthorpe Road", "Albert Road", "Parliament Road", "Marton Road", "Borough Road", "Corporation Road")),
    _t("Hartlepool", "County Durham", _NE, 54.6863, -1.2129, ("TS24", "TS25", "TS26"),
       ("York Road", "Stockton Road", "Raby Road", "Church Street", "Catcote Road")),
    _t("Stockton-on-Tees", "County Durham", _NE, 54.5683, -1.3187, ("TS18", "TS19", "TS20"),
       ("High Street", "Yarm Lane", "Norton Road", "Durham Road", "Oxbridge Lane")),
    _t("Darlington", "County Durham", _NE, 54.5236, -1.5595, ("DL1", "DL3"),
       ("Northgate", "Skinnergate", "Grange Road", "Yarm Road", "North Road", "Victoria Road")),
    # North West
    _t("Manchester", "Greater Manchester", _NW, 53.4808, -2.2426, ("M1", "M4", "M13", "M14", "M40"),
       ("Oxford Road", "Deansgate", "Market Street", "Wilmslow Road", "Oldham Road", "Princess Street")),
    _t("Salford", "Greater Manchester", _NW, 53.4875, -2.2901, ("M5", "M6", "M7"),
       ("Eccles New Road", "Langworthy Road", "Bury New Road", "Chapel Street", "Liverpool Street")),
    _t("Liverpool", "Merseyside", _NW, 53.4084, -2.9916, ("L1", "L3", "L4", "L6", "L8", "L15"),
       ("Bold Street", "Lord Street", "County Road", "Smithdown Road", "Lodge Lane", "Scotland Road")),
    _t("Preston", "Lancashire", _NW, 53.7632, -2.7031, ("PR1", "PR2"),
       ("Fishergate", "Friargate", "Church Street", "Blackpool Road", "Deepdale Road", "Garstang Road")),
    _t("Blackpool", "Lancashire", _NW, 53.8175, -3.0357, ("FY1", "FY2", "FY3", "FY4"),
       ("Talbot Road", "Church Street", "Whitegate Drive", "Lytham Road", "Dickson Road")),
    _t("Blackburn", "Lancashire", _NW, 53.7480, -2.4822, ("BB1", "BB2"),
       ("King William Street", "Preston New Road", "Whalley Range", "Bolton Road", "Audley Range")),
    _t("Bolton", "Greater Manchester", _NW, 53.5769, -2.4282, ("BL1", "BL2", "BL3"),
       ("Deansgate", "Bradshawgate", "Chorley New Road", "Derby Street", "Blackburn Road", "St Helens Road")),
    _t("Warrington", "Cheshire", _NW, 53.3900, -2.5970, ("WA1", "WA2", "WA4", "WA5"),
       ("Bridge Street", "Buttermarket Street", "Winwick Road", "Knutsford Road", "Liverpool Road", "Sankey Street")),
    _t("Carlisle", "Cumbria", _NW, 54.8925, -2.9329, ("CA1", "CA2", "CA3"),
       ("English Street", "Botchergate", "Warwick Road", "London Road", "Scotland Road", "Dalston Road")),
    # Yorkshire and the Humber
    _t("Leeds", "West Yorkshire", _YH, 53.7997, -1.5492, ("LS1", "LS2", "LS6", "LS7", "LS8", "LS9", "LS11"),
       ("Briggate", "Kirkstall Road", "Harehills Lane", "Roundhay Road", "Dewsbury Road")),
    _t("Bradford", "West Yorkshire", _YH, 53.7960, -1.7594, ("BD1", "BD3", "BD5", "BD7", "BD8"),
       ("Manningham Lane", "Leeds Road", "Great Horton Road", "Thornton Road", "Little Horton Lane", "Oak Lane")),
    _t("Sheffield", "South Yorkshire", _YH, 53.3811, -1.4701, ("S1", "S2", "S3", "S4", "S8", "S10"),
       ("Fargate", "Division Street", "London Road", "Abbeydale Road", "Ecclesall Road", "Staniforth Road")),
    _t("Rotherham", "South Yorkshire", _YH, 53.4326, -1.3635, ("S60", "S61", "S65"),
       ("Effingham Street", "Wellgate", "Doncaster Road", "Fitzwilliam Road", "Broom Road", "Kimberworth Road")),
    _t("Doncaster", "South Yorkshire", _YH, 53.5228, -1.1285, ("DN1", "DN2", "DN4", "DN5"),
       ("Hall Gate", "Bennetthorpe", "Thorne Road", "Balby Road", "Bentley Road", "Carr House Road")),
    _t("Kingston upon Hull", "East Riding of Yorkshire", _YH, 53.7457, -0.3367,
       ("HU1", "HU2", "HU3", "HU5", "HU8", "HU9"),
       ("Hessle Road", "Beverley Road", "Anlaby Road", "Holderness Road", "Spring Bank", "Newland Avenue")),
    _t("York", "North Yorkshire", _YH, 53.9590, -1.0815, ("YO1", "YO10", "YO24", "YO26", "YO31"),
       ("Micklegate", "Coney Street", "Fulford Road", "Tadcaster Road", "Huntington Road", "Burton Stone Lane")),
    _t("Huddersfield", "West Yorkshire", _YH, 53.6458, -1.7850, ("HD1", "HD2", "HD3", "HD5"),
       ("New Street", "Trinity Street", "Manchester Road", "Wakefield Road", "Bradford Road", "Leeds Road")),
    _t("Wakefield", "West Yorkshire", _YH, 53.6833, -1.4977, ("WF1", "WF2"),
       ("Westgate", "Kirkgate", "Northgate", "Dewsbury Road", "Doncaster Road", "Agbrigg Road")),
    # East Midlands
    _t("Nottingham", "Nottinghamshire", _EM, 52.9548, -1.1581, ("NG1", "NG2", "NG3", "NG5", "NG7"),
       ("Mansfield Road", "Alfreton Road", "Radford Road", "Carlton Road", "Hucknall Road", "Ilkeston Road")),
    _t("Mansfield", "Nottinghamshire", _EM, 53.1443, -1.1980, ("NG18", "NG19"),
       ("Westgate", "Nottingham Road", "Chesterfield Road", "Sutton Road", "Leeming Street")),
    _t("Leicester", "Leicestershire", _EM, 52.6369, -1.1398, ("LE1", "LE2", "LE3", "LE4", "LE5"),
       ("Narborough Road", "Belgrave Road", "London Road", "Humberstone Road", "Melton Road", "Hinckley Road")),
    _t("Derby", "Derbyshire", _EM, 52.9225, -1.4746, ("DE1", "DE21", "DE22", "DE23", "DE24"),
       ("Normanton Road", "Osmaston Road", "Burton Road", "Ashbourne Road", "Kedleston Road", "Nottingham Road")),
    _t("Chesterfield", "Derbyshire", _EM, 53.2350, -1.4210, ("S40", "S41"),
       ("Saltergate", "Sheffield Road", "Chatsworth Road", "Derby Road", "Newbold Road")),
    _t("Lincoln", "Lincolnshire", _EM, 53.2307, -0.5406, ("LN1", "LN2", "LN5", "LN6"),
       ("High Street", "Steep Hill", "Monks Road", "Newark Road", "Burton Road", "Carholme Road")),
    _t("Northampton", "Northamptonshire", _EM, 52.2405, -0.9027, ("NN1", "NN2", "NN3", "NN5"),
       ("Abington Street", "Wellingborough Road", "Kettering Road", "Harborough Road", "St James Road")),
    # West Midlands
    _t("Birmingham", "West Midlands", _WM, 52.4862, -1.8904, ("B5", "B8", "B10", "B11", "B12", "B21"),
       ("Corporation Street", "Stratford Road", "Soho Road", "Coventry Road", "Ladypool Road", "Alum Rock Road")),
    _t("Coventry", "West Midlands", _WM, 52.4068, -1.5197, ("CV1", "CV2", "CV3", "CV5", "CV6"),
       ("Foleshill Road", "Far Gosford Street", "Walsgrave Road", "Earlsdon Street", "Hertford Street")),
    _t("Wolverhampton", "West Midlands", _WM, 52.5862, -2.1288, ("WV1", "WV2", "WV3", "WV4", "WV10"),
       ("Dudley Street", "Lichfield Street", "Dudley Road", "Penn Road", "Stafford Road", "Tettenhall Road")),
    _t("Walsall", "West Midlands", _WM, 52.5860, -1.9820, ("WS1", "WS2", "WS3", "WS5"),
       ("Park Street", "Bridge Street", "Wednesbury Road", "Caldmore Road", "Bloxwich Road")),
    _t("Dudley", "West Midlands", _WM, 52.5123, -2.0811, ("DY1", "DY2", "DY3"),
       ("High Street", "Wolverhampton Street", "Castle Hill", "Stourbridge Road", "Birmingham Street")),
    _t("Stoke-on-Trent", "Staffordshire", _WM, 53.0027, -2.1794, ("ST1", "ST3", "ST4", "ST6"),
       ("Piccadilly", "Stoke Road", "Lightwood Road", "Waterloo Road", "Leek Road", "King Street")),
    _t("Shrewsbury", "Shropshire", _WM, 52.7073, -2.7553, ("SY1", "SY2", "SY3"),
       ("Mardol", "Pride Hill", "Wyle Cop", "Castle Foregate", "Abbey Foregate")),
    _t("Worcester", "Worcestershire", _WM, 52.1920, -2.2200, ("WR1", "WR2", "WR3", "WR4", "WR5"),
       ("High Street", "The Foregate", "Barbourne Road", "London Road", "Lowesmoor", "Bath Road")),
    _t("Hereford", "Herefordshire", _WM, 52.0565, -2.7160, ("HR1", "HR2", "HR4"),
       ("Commercial Road", "Widemarsh Street", "Whitecross Road", "Ross Road", "Eign Street")),
    # East of England
    _t("Norwich", "Norfolk", _EE, 52.6309, 1.2974, ("NR1", "NR2", "NR3", "NR5", "NR7"),
       ("Prince of Wales Road", "Magdalen Street", "Dereham Road", "Unthank Road", "Earlham Road", "Sprowston Road")),
    _t("Ipswich", "Suffolk", _EE, 52.0567, 1.1482, ("IP1", "IP2", "IP3", "IP4"),
       ("Norwich Road", "Woodbridge Road", "Felixstowe Road", "Wherstead Road", "Westgate Street", "Spring Road")),
    _t("Cambridge", "Cambridgeshire", _EE, 52.2053, 0.1218, ("CB1", "CB2", "CB4", "CB5"),
       ("Mill Road", "Hills Road", "Regent Street", "Histon Road", "Newmarket Road", "Chesterton Road")),
    _t("Peterborough", "Cambridgeshire", _EE, 52.5695, -0.2405, ("PE1", "PE2", "PE3", "PE4"),
       ("Lincoln Road", "Bourges Boulevard", "Park Road", "Eastfield Road", "Oundle Road", "Bridge Street")),
    _t("Luton", "Bedfordshire", _EE, 51.8787, -0.4200, ("LU1", "LU2", "LU3", "LU4"),
       ("Dunstable Road", "Leagrave Road", "Bury Park Road", "Hitchin Road", "Park Street", "Marsh Road")),
    _t("Bedford", "Bedfordshire", _EE, 52.1360, -0.4667, ("MK40", "MK41", "MK42"),
       ("High Street", "Midland Road", "Bromham Road", "Goldington Road", "Ampthill Road", "Tavistock Street")),
    _t("Southend-on-Sea", "Essex", _EE, 51.5459, 0.7077, ("SS0", "SS1", "SS2", "SS9"),
       ("London Road", "Southchurch Road", "Hamlet Court Road", "Victoria Avenue", "Sutton Road")),
    _t("Chelmsford", "Essex", _EE, 51.7356, 0.4685, ("CM1", "CM2"),
       ("Moulsham Street", "Broomfield Road", "Springfield Road", "Baddow Road", "Rainsford Road")),
    _t("Colchester", "Essex", _EE, 51.8959, 0.8919, ("CO1", "CO2", "CO3", "CO4"),
       ("High Street", "Crouch Street", "Military Road", "Maldon Road", "Ipswich Road", "Greenstead Road")),
    # London (boroughs and areas; county is Greater London)
    _t("Croydon", _GL, _LDN, 51.3762, -0.0982, ("CR0", "CR2", "CR7"),
       ("London Road", "North End", "Brigstock Road", "Whitehorse Road", "Lower Addiscombe Road", "Brighton Road")),
    _t("Hackney", _GL, _LDN, 51.5450, -0.0553, ("E5", "E8", "E9", "N16"),
       ("Mare Street", "Kingsland Road", "Lower Clapton Road", "Stoke Newington High Street", "Well Street",
        "Amhurst Road")),
    _t("Lewisham", _GL, _LDN, 51.4613, -0.0128, ("SE4", "SE6", "SE13", "SE14"),
       ("Lewisham High Street", "Rushey Green", "Brockley Road", "Lee High Road", "Loampit Vale", "New Cross Road")),
    _t("Ealing", _GL, _LDN, 51.5130, -0.3040, ("W5", "W7", "W13"),
       ("Uxbridge Road", "The Broadway", "South Ealing Road", "Northfield Avenue", "Castlebar Road")),
    _t("Brixton", _GL, _LDN, 51.4613, -0.1156, ("SW2", "SW9"),
       ("Brixton Road", "Coldharbour Lane", "Acre Lane", "Brixton Hill", "Railton Road", "Effra Road")),
    _t("Peckham", _GL, _LDN, 51.4700, -0.0690, ("SE5", "SE15"),
       ("Rye Lane", "Peckham High Street", "Queens Road", "Peckham Road", "Bellenden Road")),
    _t("Tottenham", _GL, _LDN, 51.5882, -0.0726, ("N15", "N17"),
       ("High Road", "Bruce Grove", "West Green Road", "Philip Lane", "Lordship Lane")),
    _t("Islington", _GL, _LDN, 51.5380, -0.1030, ("N1", "N7", "N19"),
       ("Upper Street", "Holloway Road", "Caledonian Road", "Essex Road", "Seven Sisters Road", "Junction Road")),
    _t("Stratford", _GL, _LDN, 51.5416, -0.0022, ("E7", "E13", "E15"),
       ("The Broadway", "Romford Road", "High Street", "Plaistow Road", "Water Lane", "Leytonstone Road")),
    _t("Wembley", _GL, _LDN, 51.5522, -0.2963, ("HA0", "HA9"),
       ("Wembley High Road", "Ealing Road", "Harrow Road", "Wembley Park Drive", "Forty Lane")),
    # South East
    _t("Brighton", "East Sussex", _SE, 50.8225, -0.1372, ("BN1", "BN2", "BN3"),
       ("Western Road", "London Road", "Lewes Road", "Queens Road", "Ditchling Road", "Edward Street")),
    _t("Southampton", "Hampshire", _SE, 50.9097, -1.4044, ("SO14", "SO15", "SO16", "SO17", "SO19"),
       ("Above Bar Street", "Shirley Road", "Portswood Road", "Bitterne Road West", "St Mary Street",
        "Bevois Valley Road")),
    _t("Portsmouth", "Hampshire", _SE, 50.8198, -1.0880, ("PO1", "PO2", "PO3", "PO4", "PO5"),
       ("Commercial Road", "Albert Road", "Fratton Road", "London Road", "Kingston Road", "Elm Grove")),
    _t("Reading", "Berkshire", _SE, 51.4543, -0.9781, ("RG1", "RG2", "RG4", "RG30"),
       ("Oxford Road", "Broad Street", "London Road", "Wokingham Road", "Basingstoke Road", "Southampton Street")),
    _t("Slough", "Berkshire", _SE, 51.5105, -0.5950, ("SL1", "SL2", "SL3"),
       ("High Street", "Farnham Road", "Bath Road", "Stoke Poges Lane", "Wexham Road")),
    _t("Oxford", "Oxfordshire", _SE, 51.7520, -1.2577, ("OX1", "OX2", "OX3", "OX4"),
       ("Cowley Road", "Iffley Road", "Banbury Road", "Botley Road", "London Road", "Abingdon Road")),
    _t("Milton Keynes", "Buckinghamshire", _SE, 52.0406, -0.7594, ("MK2", "MK6", "MK9", "MK13"),
       ("Midsummer Boulevard", "Silbury Boulevard", "Avebury Boulevard", "Saxon Gate", "Queensway")),
    _t("Maidstone", "Kent", _SE, 51.2720, 0.5290, ("ME14", "ME15", "ME16"),
       ("Week Street", "Gabriel's Hill", "Tonbridge Road", "Loose Road", "Sutton Road", "Boxley Road")),
    _t("Canterbury", "Kent", _SE, 51.2802, 1.0789, ("CT1", "CT2"),
       ("High Street", "St Dunstan's Street", "Wincheap", "Sturry Road", "Old Dover Road", "Military Road")),
    # South West
    _t("Bristol", "Bristol", _SW, 51.4545, -2.5879, ("BS1", "BS2", "BS3", "BS4", "BS5", "BS7"),
       ("Gloucester Road", "Stapleton Road", "St Marks Road", "North Street", "Church Road", "Wells Road")),
    _t("Bath", "Somerset", _SW, 51.3811, -2.3590, ("BA1", "BA2"),
       ("Milsom Street", "Walcot Street", "London Road", "Wells Road", "Lower Bristol Road")),
    _t("Plymouth", "Devon", _SW, 50.3755, -4.1427, ("PL1", "PL2", "PL4", "PL5", "PL6"),
       ("Royal Parade", "Union Street", "Mutley Plain", "North Road East", "Albert Road", "Wolseley Road")),
    _t("Exeter", "Devon", _SW, 50.7184, -3.5339, ("EX1", "EX2", "EX4"),
       ("High Street", "Sidwell Street", "Fore Street", "Cowick Street", "Heavitree Road", "Pinhoe Road")),
    _t("Swindon", "Wiltshire", _SW, 51.5558, -1.7797, ("SN1", "SN2", "SN3", "SN5"),
       ("Regent Street", "Commercial Road", "Manchester Road", "Cricklade Road", "Drove Road", "Faringdon Road")),
    _t("Gloucester", "Gloucestershire", _SW, 51.8642, -2.2380, ("GL1", "GL2", "GL4"),
       ("Barton Street", "Westgate Street", "Bristol Road", "Tredworth Road", "London Road", "Eastgate Street")),
    _t("Cheltenham", "Gloucestershire", _SW, 51.8994, -2.0783, ("GL50", "GL51", "GL52", "GL53"),
       ("Promenade", "High Street", "Bath Road", "London Road", "Gloucester Road", "Tewkesbury Road")),
    _t("Bournemouth", "Dorset", _SW, 50.7192, -1.8808, ("BH1", "BH7", "BH8", "BH9"),
       ("Old Christchurch Road", "Holdenhurst Road", "Charminster Road", "Christchurch Road", "Wimborne Road")),
    _t("Taunton", "Somerset", _SW, 51.0150, -3.1029, ("TA1", "TA2"),
       ("East Street", "Station Road", "Priory Avenue", "Wellington Road", "Staplegrove Road", "Bridge Street")),
    # Wales
    _t("Cardiff", "Cardiff", _WAL, 51.4816, -3.1791, ("CF10", "CF11", "CF14", "CF23", "CF24"),
       ("Cowbridge Road East", "City Road", "Albany Road", "Whitchurch Road", "Clifton Street")),
    _t("Swansea", "Swansea", _WAL, 51.6214, -3.9436, ("SA1", "SA2", "SA5", "SA6"),
       ("Oxford Street", "Walter Road", "St Helen's Road", "Carmarthen Road", "Woodfield Street",
        "Llangyfelach Road")),
    _t("Newport", "Newport", _WAL, 51.5842, -2.9977, ("NP19", "NP20"),
       ("Commercial Street", "Chepstow Road", "Caerleon Road", "Corporation Road", "Stow Hill", "Malpas Road")),
    _t("Wrexham", "Wrexham", _WAL, 53.0461, -2.9925, ("LL11", "LL12", "LL13"),
       ("Regent Street", "Hope Street", "Chester Road", "Ruabon Road", "Grosvenor Road", "Rhosddu Road")),
    _t("Llandudno", "Conwy", _WAL, 53.3241, -3.8276, ("LL30", "LL31"),
       ("Mostyn Street", "Trinity Square", "Conway Road", "Church Walks", "Augusta Street")),
    _t("Llanelli", "Carmarthenshire", _WAL, 51.6840, -4.1630, ("SA14", "SA15"),
       ("Stepney Street", "Station Road", "Murray Street", "Thomas Street", "Felinfoel Road")),
    _t("Merthyr Tydfil", "Merthyr Tydfil", _WAL, 51.7487, -3.3779, ("CF47", "CF48"),
       ("High Street", "Brecon Road", "Pontmorlais", "Swansea Road", "Bethesda Street")),
    _t("Bridgend", "Bridgend", _WAL, 51.5043, -3.5769, ("CF31", "CF35"),
       ("Nolton Street", "Caroline Street", "Park Street", "Coity Road", "Merthyr Mawr Road", "Tondu Road")),
    _t("Pontypridd", "Rhondda Cynon Taf", _WAL, 51.6020, -3.3423, ("CF37", "CF38"),
       ("Taff Street", "Mill Street", "Broadway", "Tyfica Road", "Berw Road")),
)

_BY_NAME: dict[str, Town] = {t.name.casefold(): t for t in TOWNS}
_BY_DISTRICT: dict[str, Town] = {d: t for t in TOWNS for d in t.districts}


def town_by_name(name: str) -> Town | None:
    return _BY_NAME.get(name.strip().casefold())


def outward_code(postcode: str) -> str:
    """The district part of a postcode ("LS7 3AB" -> "LS7"); spacing and case forgiven."""
    compact = "".join(postcode.split()).upper()
    return compact[:-3] if len(compact) > 3 else compact


def town_for_district(district_or_postcode: str) -> Town | None:
    """The town a postcode district (or a whole postcode) belongs to, if known."""
    text = district_or_postcode.strip().upper()
    if " " in text or len(text) > 4:
        text = outward_code(text)
    return _BY_DISTRICT.get(text)


def districts() -> dict[str, Town]:
    """Every known district and its town (a copy: callers may not change the index)."""
    return dict(_BY_DISTRICT)


def towns_in(region: str) -> tuple[Town, ...]:
    return tuple(t for t in TOWNS if t.region == region)


# --- Every postcode district -------------------------------------------------------

# Derived from OS Code-Point Open (Open Government Licence v3.0); see
# emdesk/domain/data/postcode_districts.SOURCE.md for the version and how.
_DISTRICTS_CSV = "postcode_districts.csv"


class District(msgspec.Struct, frozen=True, kw_only=True):
    """A postcode district of England and Wales, at a postcode near the middle of its units."""

    code: str                 # the outward code, e.g. "LD1"
    lat: float
    lon: float
    countries: str            # where its units lie: "E", "W", "EW", or with "S" across the Scottish border
    units: int                # how many postcode units with a position it has

    @property
    def crosses_scottish_border(self) -> bool:
        return "S" in self.countries


@cache
def postcode_districts() -> dict[str, District]:
    """Every England and Wales postcode district with a position, read once on first use."""
    text = files(__package__).joinpath("data", _DISTRICTS_CSV).read_text(encoding="ascii")
    return {
        row["district"]: District(code=row["district"], lat=float(row["lat"]), lon=float(row["lon"]),
                                  countries=row["countries"], units=int(row["units"]))
        for row in csv.DictReader(io.StringIO(text))
    }
