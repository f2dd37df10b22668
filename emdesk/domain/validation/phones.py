"""Whether a phone number on an order can be rung: Google's libphonenumber decides.

Numbers are read as UK numbers unless they start with ``+`` and another country code.
Ofcom keeps some ranges for drama and examples (07700 900xxx, 01632 960xxx, ...) that
libphonenumber calls invalid because no line will ever answer; training material, the
demo world and documentation use them, so they are accepted here as Ofcom's own.
"""
from __future__ import annotations

import re

import phonenumbers

# Ofcom, "Telephone numbers for use in TV and radio drama": each range is 1,000 numbers,
# given here as national significant numbers without their last three digits.
_OFCOM_DRAMA = re.compile(
    r"^(?:1134960|1144960|1154960|1164960|1174960|1184960|1214960|1314960|1414960|1514960|1614960"
    r"|1914980|2079460|2920180|2896496|1632960|7700900|8081570|9098790|3069990)\d{3}$")


def phone_defect(text: str) -> str | None:
    """Why a number is not a phone number that can be rung, in plain words; None if it is."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return "has no phone number in it"
    if number.country_code == 44 and _OFCOM_DRAMA.match(str(number.national_number)):
        return None
    if phonenumbers.is_valid_number(number):
        return None
    if not phonenumbers.is_possible_number(number):
        return "has the wrong number of digits for a phone number"
    return "is not a valid phone number (no such number exists: a digit missing, extra or wrong?)"
