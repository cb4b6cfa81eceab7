"""Kassenzeichen: the number a citizen writes on a bank transfer so the city's cash office can match it.

Structure: 13 digits, shown as `26 123 000042 64`

    26       the year (Europe/Berlin), two digits
    123      the area code (Haushalts-/Buchungskreis of the office that charges), three digits
    000042   a counter per area and year, six digits (from reference_counter, key "KZ123")
    64       two check digits

Check digits: ISO/IEC 7064 MOD 97-10, the scheme of the IBAN and of the ISO 11649 creditor reference.
Read the 11-digit body as a number N; the check digits are PP = 98 - (N * 100 mod 97), written with two
digits; a complete Kassenzeichen is valid exactly when the 13-digit number mod 97 == 1.

Worked example: body 26 123 000042, N = 26123000042. N * 100 = 2612300004200, and 2612300004200 mod 97
= 34, so PP = 98 - 34 = 64 and the Kassenzeichen is 2612300004264 (check: 2612300004264 mod 97 = 1).
A typo such as 2612300004364 gives 4, not 1, and is refused.

Why this scheme and two digits: changing one digit changes the number by d * 10^k with 1 <= |d| <= 9;
swapping two adjacent digits a, b changes it by (a - b) * 9 * 10^k; swapping two digits one apart by
(a - b) * 99 * 10^k. 97 is prime and divides none of d, 9, 99 or 10^k, so every single-digit error,
every adjacent transposition and every jump transposition is detected, including those touching the
check digits. One decimal check digit cannot promise that with these standard schemes: Luhn misses
09 <-> 90, and ISO 7064 MOD 11-10 lets about 2 % of adjacent transpositions through.
"""

from __future__ import annotations

import re

from portal.references.services import current_year, take_number

LENGTH = 13
AREA_CODE_RE = re.compile(r"\d{3}")
COUNTER_MAX = 999_999
_SEPARATORS_RE = re.compile(r"[\s\-.]+")


def check_digits(body: str) -> str:
    """The two ISO 7064 MOD 97-10 check digits for a string of digits."""
    if not body.isdigit() or not body.isascii():
        raise ValueError("the body of a Kassenzeichen consists of digits only")
    return f"{98 - int(body) * 100 % 97:02d}"


def compact(text: str) -> str:
    """The Kassenzeichen without spaces, hyphens or dots, as people type and banks transmit it."""
    return _SEPARATORS_RE.sub("", text or "")


def is_valid_kassenzeichen(text: str) -> bool:
    """True for a 13-digit Kassenzeichen whose check digits match; spaces, hyphens and dots are ignored."""
    value = compact(text)
    return len(value) == LENGTH and value.isascii() and value.isdigit() and int(value) % 97 == 1


def format_kassenzeichen(text: str) -> str:
    """`2612300004264` -> `26 123 000042 64` (year, area, counter, check digits) for display and letters."""
    value = compact(text)
    if len(value) != LENGTH:
        raise ValueError(f"a Kassenzeichen has {LENGTH} digits")
    return f"{value[:2]} {value[2:5]} {value[5:11]} {value[11:]}"


def counter_key(area_code: str) -> str:
    return f"KZ{area_code}"


def next_kassenzeichen(area_code: str, *, year: int | None = None) -> str:
    """The next Kassenzeichen for an area in `year` (default: this year in Europe/Berlin), 13 digits compact.

    Same rules as `next_reference`: inside the caller's transaction, gap-free, before `audit.record`.
    """
    if not AREA_CODE_RE.fullmatch(area_code or ""):
        raise ValueError(f"area code {area_code!r} must be three digits")
    year = current_year() if year is None else year
    value = take_number(counter_key(area_code), year)
    if value > COUNTER_MAX:
        # The format is fixed-length for the cash office's systems; a million per area and year is the cap.
        raise OverflowError(f"Kassenzeichen counter for area {area_code} in {year} is exhausted")
    body = f"{year % 100:02d}{area_code}{value:06d}"
    return body + check_digits(body)
