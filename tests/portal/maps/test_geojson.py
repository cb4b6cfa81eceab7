"""GeoJSON in and out: what is accepted, what is refused and why, and the area of a drawn polygon."""

from __future__ import annotations

import json
import math

import pytest

from portal.maps import geo
from portal.maps.geojson import (
    GeoJSONError,
    Geometry,
    feature_collection,
    parse_coordinates,
    parse_geojson,
    parse_geometry,
    point,
)

CITY = (50.97, 13.60, 51.13, 13.90)
LAT, LON = 51.0504, 13.7373


def rectangle(width_m: float, height_m: float, lat: float = LAT, lon: float = LON) -> list[list[float]]:
    """A closed ring width_m east-west by height_m north-south, counter-clockwise, from (lon, lat)."""
    dlon = width_m / (math.radians(1) * geo.EARTH_RADIUS_M * math.cos(math.radians(lat)))
    dlat = height_m / (math.radians(1) * geo.EARTH_RADIUS_M)
    return [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat], [lon, lat]]


def polygon(ring: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def refused(value, **kwargs) -> GeoJSONError:
    with pytest.raises(GeoJSONError) as raised:
        parse_geometry(value, **kwargs)
    return raised.value


def test_a_valid_polygon_is_accepted_with_its_area(app):
    geometry = parse_geometry(json.dumps(polygon(rectangle(20, 5))), bounds=CITY)
    assert geometry.type == "Polygon"
    assert geometry.vertex_count == 4
    assert geometry.area_m2 == pytest.approx(100, rel=0.02)


@pytest.mark.parametrize(("width", "height"), [(3, 2), (12.5, 4), (100, 40), (800, 600)])
def test_the_area_of_a_rectangle_matches_length_times_width(app, width, height):
    assert parse_geometry(polygon(rectangle(width, height))).area_m2 == pytest.approx(width * height, rel=0.02)


def test_a_hole_is_taken_off_the_area(app):
    outer = rectangle(100, 100)
    hole = rectangle(10, 10, lat=LAT + 0.0002, lon=LON + 0.0003)
    geometry = parse_geometry({"type": "Polygon", "coordinates": [outer, hole]})
    assert geometry.area_m2 == pytest.approx(100 * 100 - 10 * 10, rel=0.02)


def test_rings_are_written_out_counter_clockwise_as_rfc_7946_says(app):
    clockwise = rectangle(20, 5)[::-1]
    geometry = parse_geometry(polygon(clockwise))
    assert geo.signed_ring_area_m2(geometry.coordinates[0]) > 0
    assert geometry.area_m2 == pytest.approx(100, rel=0.02)


def test_a_feature_and_a_collection_are_read_with_their_properties(app):
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]}, "properties": {"n": 1}}
    assert parse_geometry(feature).properties == {"n": 1}
    collection = {"type": "FeatureCollection", "features": [feature, {**feature, "properties": {"n": 2}}]}
    assert [g.properties["n"] for g in parse_geojson(collection)] == [1, 2]
    with pytest.raises(GeoJSONError):
        parse_geometry(collection)  # one was asked for, two were given


def test_geojson_out_reads_back_in_unchanged(app):
    geometry = parse_geometry(polygon(rectangle(20, 5)))
    again = parse_geometry(geometry.to_json())
    assert again == geometry
    assert json.loads(geometry.to_json())["type"] == "Polygon"
    collection = feature_collection([point(LAT, LON), geometry])
    assert [f["geometry"]["type"] for f in collection["features"]] == ["Point", "Polygon"]
    assert parse_geojson(json.dumps(collection)) == [point(LAT, LON), geometry]


def test_an_unclosed_ring_is_refused(app):
    error = refused(polygon(rectangle(20, 5)[:-1]))
    assert error.code == "unclosed_ring"
    assert "nicht geschlossen" in error.message


def test_a_place_outside_the_city_is_refused(app):
    error = refused({"type": "Point", "coordinates": [13.40, 52.52]}, bounds=CITY)  # Berlin
    assert error.code == "outside_city"
    assert "außerhalb des Stadtgebiets" in error.message


@pytest.mark.parametrize("coordinates", [[200, 51], [13.7, 95], [13.7], [13.7, "51"], [True, 51], [13.7, 51, 0, 0]])
def test_impossible_coordinates_are_refused(app, coordinates):
    assert refused({"type": "Point", "coordinates": coordinates}).code in {"out_of_range", "position"}


def test_too_many_vertices_are_refused(app):
    ring = [[LON + 0.001 * math.cos(a / 50 * math.tau), LAT + 0.001 * math.sin(a / 50 * math.tau)] for a in range(50)]
    ring.append(ring[0])
    assert parse_geometry(polygon(ring), max_vertices=50).vertex_count == 50
    error = refused(polygon(ring), max_vertices=20)
    assert error.code == "too_many_vertices"
    assert "höchstens 20" in error.message


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", "[1, 2]", '"Point"', "null", '{"type": "Point", "coordinates": [NaN, 51]}', "[" * 100_000],
)
def test_garbage_is_refused_with_a_message(app, text):
    error = refused(text)
    assert error.message
    assert error.code in {"not_json", "not_object", "too_large", "type"}


def test_a_bow_tie_polygon_is_refused(app):
    ring = [[LON, LAT], [LON + 0.001, LAT + 0.001], [LON + 0.001, LAT], [LON, LAT + 0.001], [LON, LAT]]
    assert refused(polygon(ring)).code == "self_intersection"


def test_a_flat_polygon_is_refused(app):
    ring = [[LON, LAT], [LON + 0.001, LAT], [LON + 0.002, LAT], [LON, LAT]]
    assert refused(polygon(ring)).code == "degenerate"


def test_a_repeated_click_on_the_same_corner_is_ignored(app):
    ring = rectangle(20, 5)
    ring.insert(1, ring[1])
    assert parse_geometry(polygon(ring)).vertex_count == 4


def test_other_geometry_types_are_refused_unless_allowed(app):
    line = {"type": "LineString", "coordinates": [[LON, LAT], [LON + 0.001, LAT]]}
    assert refused(line).code == "type"
    assert parse_geometry(line, types=("LineString",)).type == "LineString"
    assert refused({"type": "MultiPolygon", "coordinates": []}).code == "type"


@pytest.mark.parametrize("typed", ["51.0504, 13.7373", "51,0504 13,7373", "51,0504; 13,7373", "N 51.0504 E 13.7373"])
def test_typed_coordinates_give_a_point(app, typed):
    assert parse_coordinates(typed, CITY) == Geometry("Point", (13.7373, 51.0504))


def test_coordinates_typed_the_wrong_way_round_are_swapped_inside_the_city(app):
    assert parse_coordinates("13.7373, 51.0504", CITY).centre == (51.0504, 13.7373)


@pytest.mark.parametrize("typed", ["51.0504", "Rathausplatz", "1, 2, 3", "52.52, 13.40"])
def test_unreadable_or_foreign_coordinates_are_refused(app, typed):
    with pytest.raises(GeoJSONError):
        parse_coordinates(typed, CITY)
