"""Kassenzeichen: structure, ISO 7064 MOD 97-10 check digits, and the typos they catch."""

from __future__ import annotations

import random

import pytest

from portal.references import check_digits, format_kassenzeichen, is_valid_kassenzeichen, next_kassenzeichen
from portal.transaction import transaction


def _generated(area: str = "123", count: int = 3, year: int = 2026) -> list[str]:
    with transaction():
        return [next_kassenzeichen(area, year=year) for _ in range(count)]


def test_a_kassenzeichen_is_year_area_counter_and_two_check_digits(app):
    first, second = _generated(count=2)

    assert first[:11] == "26123000001" and second[:11] == "26123000002"
    assert len(first) == 13 and first.isdigit()
    assert is_valid_kassenzeichen(first) and is_valid_kassenzeichen(second)
    assert format_kassenzeichen(first) == f"26 123 000001 {first[11:]}"


def test_the_worked_example_of_the_documentation_holds():
    assert check_digits("26123000042") == "64"
    assert is_valid_kassenzeichen("2612300004264")
    assert not is_valid_kassenzeichen("2612300004364")
    assert format_kassenzeichen("2612300004264") == "26 123 000042 64"


def test_each_area_counts_on_its_own_and_apart_from_human_references(app):
    from portal.references import next_reference, register_prefix

    register_prefix(app, "KZ", service="tests")  # a human prefix "KZ" must not share the Kassenzeichen counter
    with transaction():
        next_reference("KZ", year=2026)
    [area_123] = _generated("123", count=1)
    [area_456] = _generated("456", count=1)

    assert area_123[2:11] == "123000001"
    assert area_456[2:11] == "456000001"


def test_every_single_digit_typo_is_detected(app):
    numbers = _generated(count=3) + _generated("907", count=2, year=2030)
    for number in numbers:
        assert is_valid_kassenzeichen(number)
        for position, digit in enumerate(number):
            for other in "0123456789":
                if other != digit:
                    typo = number[:position] + other + number[position + 1 :]
                    assert not is_valid_kassenzeichen(typo), f"{typo} passed for {number}"


def test_every_swap_of_two_neighbouring_digits_is_detected(app):
    rng = random.Random(7)
    bodies = ["26123000009", "26123000090", "99999999990", "09090909090"]
    bodies += [f"{rng.randrange(10**11):011d}" for _ in range(2000)]
    numbers = [body + check_digits(body) for body in bodies] + _generated(count=2)
    checked = 0
    for number in numbers:
        for position in range(len(number) - 1):
            a, b = number[position], number[position + 1]
            if a != b:
                swapped = number[:position] + b + a + number[position + 2 :]
                assert not is_valid_kassenzeichen(swapped), f"{swapped} passed for {number}"
                checked += 1
    assert checked > 20_000


@pytest.mark.parametrize("text", ["26 123 000042 64", " 26-123-000042-64 ", "2612.3000.0426.4"])
def test_spaces_hyphens_and_dots_are_ignored(text):
    assert is_valid_kassenzeichen(text)


@pytest.mark.parametrize("text", ["", "261230000426", "26123000004264", "26123000042６4", "2612300004a64", "SNU"])
def test_wrong_length_or_other_characters_are_invalid(text):
    assert not is_valid_kassenzeichen(text)


@pytest.mark.parametrize("area", ["12", "1234", "AB1", ""])
def test_the_area_code_has_three_digits(app, area):
    with pytest.raises(ValueError, match="three digits"), transaction():
        next_kassenzeichen(area)
