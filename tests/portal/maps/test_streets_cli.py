"""`flask maps import-streets` and `flask maps streets`: the city maintains its street list; imports are idempotent."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.maps.geocoding import locate
from portal.maps.models import Street

CSV = """key;name;postcode;district;number_from;number_to;lat;lon
S-001;Lindenstraße;01067;Altstadt;1;40;51,0510;13,7350
S-002;Am Anger;01069;Südvorstadt;;;51.0400;13.7300
"""


def _audit_events() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "maps.streets_imported")))


def _import(runner, path, *extra):
    return runner.invoke(args=["maps", "import-streets", str(path), *extra])


def test_a_csv_import_creates_the_streets_and_is_audited(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    path.write_text(CSV, encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 0 removed" in result.output
    assert locate("Lindenstr. 5").postcode == "01067"
    events = _audit_events()
    assert len(events) == 1
    details = json.loads(events[0].details)
    assert (details["created"], details["source"]) == (2, "strassen.csv")


def test_importing_the_same_file_twice_changes_nothing(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(runner, path)
    before = [(s.code, s.name, s.latitude, s.updated_at) for s in db.session.scalars(sa.select(Street))]
    result = _import(runner, path)
    assert "0 created, 0 updated, 2 unchanged, 0 removed" in result.output
    db.session.expire_all()
    assert [(s.code, s.name, s.latitude, s.updated_at) for s in db.session.scalars(sa.select(Street))] == before
    assert len(_audit_events()) == 1  # nothing changed, nothing to audit


def test_a_changed_row_is_updated_in_place(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(runner, path)
    path.write_text(CSV.replace("Am Anger;01069", "Am Anger;01159"), encoding="utf-8")
    result = _import(runner, path)
    assert "0 created, 1 updated, 1 unchanged" in result.output
    assert db.session.scalar(sa.select(Street.postcode).where(Street.code == "S-002")) == "01159"


def test_remove_missing_deletes_streets_no_longer_in_the_list(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(runner, path)
    path.write_text(CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n", encoding="utf-8")
    assert "0 removed" in _import(runner, path).output
    assert "1 removed" in _import(runner, path, "--remove-missing").output
    assert db.session.scalars(sa.select(Street.code)).all() == ["S-001"]


def test_a_file_with_errors_imports_nothing_and_names_the_lines(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    bad = CSV + "S-003;Weg ohne PLZ;;;;;51.05;13.74\nS-004;Berliner Straße;10115;;;;52.52;13.40\n"
    path.write_text(bad, encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code != 0
    assert "line 4: postcode must be five digits" in result.output
    assert "line 5: Point: Der Ort liegt außerhalb des Stadtgebiets." in result.output
    assert "nothing imported" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Street)) == 0


def test_a_geojson_file_with_lines_is_imported(runner, tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[13.7300, 51.0500], [13.7400, 51.0500]]},
                "properties": {"name": "Elbstraße", "postcode": "01067", "number_from": 1, "number_to": 21},
            }
        ],
    }
    path = tmp_path / "strassen.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    street = db.session.scalars(sa.select(Street)).one()
    assert (street.code, street.latitude, street.longitude) == ("elbstrasse-01067-1", 51.05, 13.735)
    assert locate("Elbstraße 21").precision == "address"


def test_the_list_and_its_geojson_export_which_reads_back_in(runner, tmp_path):
    path = tmp_path / "strassen.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(runner, path)
    listing = runner.invoke(args=["maps", "streets"]).output
    assert "S-001\tLindenstraße\t01067\tAltstadt\t1-40" in listing
    assert "2 street(s)." in listing
    assert "Lindenstraße" not in runner.invoke(args=["maps", "streets", "--search", "anger"]).output
    exported = tmp_path / "export.geojson"
    exported.write_text(runner.invoke(args=["maps", "streets", "--geojson"]).output, encoding="utf-8")
    assert "0 created, 0 updated, 2 unchanged" in _import(runner, exported).output


def test_an_unknown_file_type_is_refused(runner, tmp_path):
    path = tmp_path / "strassen.xlsx"
    path.write_bytes(b"PK\x03\x04")
    result = _import(runner, path)
    assert result.exit_code != 0
    assert "expected a .csv or .geojson file" in result.output


def test_demo_load_adds_the_musterstadt_streets_once(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "streets: 38 created, 0 already present" in first.output
    assert locate("Rathausplatz 1").district == "Altstadt"
    second = runner.invoke(args=["demo", "load"])
    assert "streets: 0 created, 38 already present" in second.output
    assert len(_audit_events()) == 1


def test_demo_load_leaves_a_changed_demo_street_alone(runner):
    runner.invoke(args=["demo", "load"])
    street = db.session.scalars(sa.select(Street).where(Street.name == "Rathausplatz")).one()
    street.district = "Innere Altstadt"
    db.session.commit()
    runner.invoke(args=["demo", "load"])
    db.session.expire_all()
    assert db.session.get(Street, street.id).district == "Innere Altstadt"


def test_only_the_platform_administration_may_change_the_street_list(app):
    from werkzeug.exceptions import Forbidden

    from portal.actors import Actor
    from portal.maps.streets import import_streets, read_street_file
    from tests.builders import make_user

    rows = read_street_file("strassen.csv", CSV.encode())
    with pytest.raises(Forbidden):
        import_streets(Actor.for_user(make_user("clerk@example.org", roles=("clerk",))), rows, source="web")
    admin = make_user("admin@example.org", roles=("platform_admin",))
    assert import_streets(Actor.for_user(admin), rows, source="web").created == 2
    assert json.loads(_audit_events()[0].details)["source"] == "web"
