"""Whether a phone number on an order can be rung: Google's libphonenumber decides.

Numbers are read as UK numbers unless they start with ``+`` and another country code.
Ofcom keeps some ranges for drama and examples (07700 900xxx, 01632 960xxx, ...) that
libphonenumber calls invalid because no line will ever answer; training material, the
demo world and documentation use them, so they are accepted here as Ofcom's own.
"""
from __future__ import annotations

import re

import phonenumbers

# Ofcom, "Telephone numbers for use in TV and radio drama" (national significant numbers).
_OFCOM_DRAMA = re.compile(r"^(?:7700900|1632960|8081570|9098790|3069990)\d{3}$")


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
