"""Offline geocoding on the city's street list: spelling variants, postcodes, house numbers, ambiguity."""

from __future__ import annotations

import pytest

from portal.maps import geo
from portal.maps.geocoding import AddressAmbiguous, AddressNotFound, geocode, locate, reverse_geocode
from tests.portal.maps.builders import load_demo_streets, make_street


@pytest.fixture
def streets(app):
    load_demo_streets()


@pytest.mark.parametrize(
    "typed",
    [
        "Schloßstraße 5",
        "Schlossstrasse 5",
        "schlossstr. 5",
        "SCHLOSSSTR 5",
        "Schloßstr.5",
        "Schlossstraße 5, 01067 Musterstadt",
        "01067 Musterstadt, Schloßstraße 5",
    ],
)
def test_spelling_variants_find_the_same_address(streets, typed):
    found = locate(typed)
    assert found.street == "Schloßstraße"
    assert found.house_number == "5"
    assert found.postcode == "01067"
    assert found.precision == "address"


@pytest.mark.parametrize("typed", ["Königsbrücker Straße 10", "koenigsbruecker str. 10", "KÖNIGSBRÜCKER STRASSE 10"])
def test_umlauts_may_be_typed_or_spelled_out(streets, typed):
    assert locate(typed).street == "Königsbrücker Straße"


def test_abbreviations_with_hyphens_and_dots_match(streets):
    assert locate("Dr.-Külz-Ring 3").street == "Dr.-Külz-Ring"
    assert locate("Dr Kuelz Ring 3").street == "Dr.-Külz-Ring"
    assert locate("Straße des 17. Juni 4").house_number == "4"


def test_a_letter_after_the_house_number_is_kept(streets):
    found = locate("Hauptstr. 12a, 01067")
    assert (found.street, found.house_number, found.postcode) == ("Hauptstraße", "12a", "01067")
    assert found.label == "Hauptstraße 12a, 01067 Altstadt"


def test_a_name_two_districts_share_asks_which_one_was_meant(streets):
    with pytest.raises(AddressAmbiguous) as raised:
        locate("Hauptstraße 12")
    assert {c.postcode for c in raised.value.candidates} == {"01067", "01097"}
    assert "Postleitzahl" in raised.value.message
    assert "Hauptstraße 12, 01067 Altstadt" in raised.value.message


def test_the_postcode_settles_which_street_is_meant(streets):
    assert locate("Hauptstraße 12, 01097").district == "Neustadt"
    assert locate("hauptstrasse 12 01067").district == "Altstadt"


def test_the_house_number_settles_which_segment_of_a_long_street(streets):
    south = locate("Großenhainer Straße 20")
    north = locate("Großenhainer Straße 92")
    assert (south.postcode, north.postcode) == ("01097", "01127")
    # The Bürgerbüro Nord is at Großenhainer Straße 92 (51.0798, 13.7296): interpolation lands near it.
    assert geo.distance_m((north.lon, north.lat), (13.7296, 51.0798)) < 100


def test_an_unknown_street_is_not_found_with_a_clear_message(streets):
    with pytest.raises(AddressNotFound) as raised:
        locate("Elbchaussee 1")
    assert raised.value.code == "not_found"
    assert "Elbchaussee" in raised.value.message
    assert geocode("Elbchaussee 1") == []


def test_a_house_number_outside_the_known_range_is_refused(streets):
    with pytest.raises(AddressNotFound) as raised:
        locate("Rathausplatz 99")
    assert raised.value.code == "house_number"
    assert "1 bis 10" in raised.value.message


def test_a_typo_is_answered_with_did_you_mean(streets):
    with pytest.raises(AddressAmbiguous) as raised:
        locate("Bautzener Strase 5")
    assert raised.value.candidates[0].street == "Bautzner Straße"
    assert raised.value.message.startswith("Meinten Sie")


def test_the_start_of_a_name_offers_candidates_for_autocomplete(streets):
    names = [result.street for result in geocode("Lou")]
    assert names == ["Louisenstraße"]
    assert [r.match for r in geocode("Lou")] == ["prefix"]


def test_without_a_house_number_the_answer_is_the_street(streets):
    found = locate("Rathausplatz")
    assert found.precision == "street"
    assert found.house_number is None


def test_the_first_house_number_lies_at_the_start_of_the_line(app):
    make_street("Teststraße", numbers=(1, 21), line=[(51.0500, 13.7300), (51.0500, 13.7400)])
    first, middle = locate("Teststraße 1"), locate("Teststraße 11")
    assert (round(first.lat, 6), round(first.lon, 6)) == (51.05, 13.73)
    assert abs(middle.lon - 13.735) < 0.0002


def test_a_street_without_numbers_answers_its_middle_with_street_precision(app):
    make_street("Feldweg", numbers=None, line=[(51.0500, 13.7300), (51.0500, 13.7400)])
    found = locate("Feldweg 7")
    assert found.precision == "street"
    assert abs(found.lon - 13.735) < 0.0002


@pytest.mark.parametrize("typed", ["", "   ", "12", "a", "\x00\x00", "ß" * 500, "%_%", "'; drop table street; --"])
def test_odd_input_finds_nothing_and_raises_nothing_unexpected(streets, typed):
    assert geocode(typed) == []
    with pytest.raises(AddressNotFound):
        locate(typed)


def test_reverse_geocoding_names_the_nearest_street_and_estimates_the_number(streets):
    found = reverse_geocode(51.0504, 13.7373)
    assert found is not None
    assert found.street == "Rathausplatz"
    assert found.house_number == "1"
    assert found.distance_m < 5


def test_reverse_geocoding_far_from_every_street_finds_nothing(streets):
    assert reverse_geocode(51.12, 13.62) is None
