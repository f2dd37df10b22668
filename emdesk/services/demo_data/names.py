"""Names, languages and reference numbers that look like the people EM really serves.

Name pools are by background so a family name and given name belong together; the
immigration cohort draws from the nationalities most often on immigration bail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .gen import Gen


@dataclass(frozen=True)
class Background:
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    language: str = "English"
    interpreter_share: float = 0.0   # how many need an interpreter at a visit


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


BRITISH = Background(
    _split("James,Daniel,Ryan,Liam,Connor,Jack,Thomas,Michael,David,Paul,Lee,Craig,Jamie,Kyle,Dean,Scott,"
           "Mark,Steven,Christopher,Jordan,Callum,Nathan,Aaron,Reece,Kieran,Luke,Adam,Shane,Wayne,Gary,"
           "Darren,Anthony,Matthew,Joshua,Bradley,Tyler,Mason,Harry,George,Sam"),
    _split("Sarah,Emma,Laura,Gemma,Kelly,Stacey,Jade,Chloe,Amy,Rebecca,Danielle,Nicola,Lisa,Kayleigh,"
           "Charlotte,Hannah,Leanne,Samantha"),
    _split("Smith,Jones,Taylor,Brown,Wilson,Johnson,Walker,Wright,Robinson,Thompson,White,Hughes,Edwards,"
           "Green,Hall,Wood,Harris,Martin,Jackson,Clarke,Turner,Hill,Scott,Cooper,Morris,Ward,Moore,King,"
           "Watson,Baker,Harrison,Atkinson,Kelly,Murphy,O'Brien,Doherty,McDonald,Gallagher,Reilly,Kennedy"),
)
WELSH = Background(
    _split("Rhys,Dylan,Gareth,Owain,Iwan,Geraint,Aled,Dafydd,Huw,Ieuan,Gethin,Kyle,Jordan,Liam"),
    _split("Cerys,Carys,Sian,Ffion,Bethan,Nia,Rhiannon,Seren,Megan"),
    _split("Jones,Williams,Davies,Evans,Thomas,Roberts,Hughes,Lewis,Morgan,Griffiths,Price,Rees,Jenkins,"
           "Powell,Owen,Pritchard,Parry,Lloyd"),
)
SOUTH_ASIAN = Background(
    _split("Mohammed,Imran,Asif,Zain,Bilal,Amir,Hassan,Usman,Adnan,Faisal,Rajesh,Sandeep,Gurpreet,Harjit,"
           "Arjun,Tariq,Shahid,Kamran,Yasir,Abdul"),
    _split("Ayesha,Fatima,Nadia,Shazia,Sana,Priya,Simran,Amrit,Rubina,Samina"),
    _split("Khan,Hussain,Ahmed,Ali,Patel,Shah,Singh,Mahmood,Iqbal,Rahman,Akhtar,Sharma,Chaudhry,Malik,"
           "Miah,Uddin"),
    language="English",
)
BLACK_BRITISH = Background(
    _split("Kwame,Tunde,Olumide,Chidi,Emeka,Kofi,Jermaine,Tyrone,Delroy,Marcus,Andre,Leon,Kareem,Femi,"
           "Segun,Jerome,Darnell,Malik"),
    _split("Chantelle,Abena,Funmi,Precious,Keisha,Shanice,Adaeze,Ama"),
    _split("Okafor,Adeyemi,Mensah,Boateng,Owusu,Okoro,Williams,Campbell,Francis,Grant,Bailey,Adebayo,"
           "Osei,Asante"),
)
POLISH = Background(
    _split("Piotr,Tomasz,Marek,Andrzej,Łukasz,Krzysztof,Paweł,Kamil"),
    _split("Agnieszka,Katarzyna,Magdalena,Joanna"),
    _split("Kowalski,Nowak,Wiśniewski,Lewandowski,Zieliński,Wójcik,Kamiński,Mazur"),
    language="Polish", interpreter_share=0.4,
)
ROMANIAN = Background(
    _split("Ionuț,Andrei,Mihai,Florin,Marian,Gheorghe,Vasile,Cristian"),
    _split("Ioana,Elena,Alina,Mihaela"),
    _split("Popescu,Ionescu,Popa,Dumitru,Stan,Constantin,Marin,Radu"),
    language="Romanian", interpreter_share=0.5,
)
LITHUANIAN = Background(
    _split("Mindaugas,Tomas,Darius,Paulius,Giedrius"),
    _split("Rūta,Daiva,Inga"),
    _split("Kazlauskas,Petrauskas,Jankauskas,Stankevičius,Vasiliauskas"),
    language="Lithuanian", interpreter_share=0.5,
)

# Immigration bail: the nationalities most often seen, each with its usual language.
IMMIGRATION = (
    (Background(_split("Arben,Besnik,Ermal,Gentian,Klodian,Dritan,Erion"), _split("Elira,Anjeza"),
                _split("Hoxha,Shehu,Krasniqi,Dervishi,Leka,Gjoni"), "Albanian", 0.8), 22),
    (Background(_split("Minh,Tuan,Duc,Hung,Long,Quang"), _split("Linh,Thu"),
                _split("Nguyen,Tran,Le,Pham,Hoang,Vu"), "Vietnamese", 0.9), 10),
    (Background(_split("Yonas,Filmon,Semere,Tesfay,Dawit,Merhawi"), _split("Helen,Senait"),
                _split("Ghebremedhin,Tekle,Haile,Berhane,Kidane,Woldu"), "Tigrinya", 0.9), 10),
    (Background(_split("Reza,Amir,Hossein,Mehdi,Saeed,Behzad"), _split("Maryam,Zahra"),
                _split("Hosseini,Ahmadi,Karimi,Rahimi,Mohammadi,Rezaei"), "Farsi", 0.8), 10),
    (Background(_split("Karwan,Rebwar,Dilshad,Hawre,Sherzad,Aram"), _split("Shilan,Zhino"),
                _split("Aziz,Karim,Rashid,Mahmoud,Salih,Omar"), "Kurdish Sorani", 0.9), 10),
    (Background(_split("Ahmad,Farid,Wahid,Naveed,Jawad,Habib"), _split("Farzana,Mursal"),
                _split("Ahmadzai,Safi,Noori,Stanikzai,Haidari,Popal"), "Pashto", 0.9), 8),
    (Background(_split("Mohamed,Osman,Abdelrahman,Elfatih,Musa,Adam"), _split("Amna,Hiba"),
                _split("Abdalla,Ibrahim,Elamin,Yousif,Babiker,Osman"), "Arabic", 0.8), 8),
    (Background(_split("Usman,Waqas,Zeeshan,Hamza,Umar"), _split("Sadia,Mehwish"),
                _split("Butt,Raza,Javed,Aslam,Qureshi"), "Urdu", 0.5), 8),
    (Background(_split("Chinedu,Emeka,Oluwaseun,Tobi,Ikenna"), _split("Ngozi,Funke"),
                _split("Okonkwo,Adeyemi,Eze,Olatunji,Nwosu"), "English", 0.0), 8),
    (Background(_split("Harpreet,Manpreet,Jaswinder,Kulwant"), _split("Navdeep,Rajwinder"),
                _split("Singh,Gill,Sandhu,Dhillon"), "Punjabi", 0.6), 6),
)

BACKGROUNDS = ((BRITISH, 62), (SOUTH_ASIAN, 12), (BLACK_BRITISH, 12), (POLISH, 6), (ROMANIAN, 5),
               (LITHUANIAN, 3))
BACKGROUNDS_WALES = ((WELSH, 55), (BRITISH, 25), (SOUTH_ASIAN, 7), (BLACK_BRITISH, 6), (POLISH, 7))

_NICKNAMES = {"Daniel": "Danny", "Michael": "Mick", "Christopher": "Chris", "Anthony": "Tony",
              "Mohammed": "Mo", "Thomas": "Tom", "James": "Jim", "Matthew": "Matt", "Joshua": "Josh",
              "Samantha": "Sam", "Rebecca": "Becky", "Nicola": "Nicky", "Steven": "Steve", "Gareth": "Gaz",
              "Dafydd": "Dai", "Abdul": "Abdi", "Kamran": "Kam"}

# PNC and CRO numbers end in a check letter: (yy * 10^7 + serial) mod 23 indexes this.
_CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def family_name(background: Background, gen: Gen, female: bool) -> str:
    name = gen.pick(background.family)
    if female and name.endswith("ski"):
        name = name[:-1] + "a"   # Polish surnames agree with the bearer
    return name


def given_name(background: Background, gen: Gen, female: bool) -> str:
    return gen.pick(background.female if female else background.male)


def nickname(given: str) -> str | None:
    return _NICKNAMES.get(given)


def pnc(gen: Gen, year: int) -> str:
    serial = gen.rng.randrange(1, 9_999_999)
    check = _CHECK_LETTERS[((year % 100) * 10_000_000 + serial) % 23]
    return f"{year}/{serial:07d}{check}"


def cro(gen: Gen, year: int) -> str:
    serial = gen.rng.randrange(1, 999_999)
    check = _CHECK_LETTERS[((year % 100) * 10_000_000 + serial) % 23]
    return f"{serial:06d}/{year % 100:02d}{check}"


def nomis(gen: Gen) -> str:
    return f"{gen.pick('AG')}{gen.rng.randrange(1000, 9999)}{gen.pick(_LETTERS)}{gen.pick(_LETTERS)}"


def prison_number(gen: Gen) -> str:
    return f"{gen.pick(_LETTERS)}{gen.pick(_LETTERS)}{gen.rng.randrange(1000, 9999)}"


def delius_crn(gen: Gen) -> str:
    return f"{gen.pick(_LETTERS)}{gen.rng.randrange(100000, 999999)}"


def home_office_ref(gen: Gen) -> str:
    return f"HO/{gen.rng.randrange(1_000_000, 9_999_999)}"


def first_record_year(gen: Gen, dob: date | None, today: date) -> int:
    """The year someone first came to police notice: at 12 or older, not in the future."""
    earliest = max(1996, (dob.year + 12) if dob else 2000)
    return gen.rng.randint(min(earliest, today.year), today.year)
