"""Mein Konto → Datenzugriffe: every access to the signed-in person's data (and refused attempts) in words, with
its place in the signed audit chain; only their own entries; a fixed number of queries per page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.models import AccessLog
from dataaccess.services import access
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow
from tests.dataaccess.builders import World, approved_agreement
from tests.portal.audit.helpers import sign_in

PAGE = "/konto/datenzugriffe"
CASE = "VA-2026-0815"


def _read(world: World, agreement, *, subject=None, fields=("aktenzeichen", "status"), case=CASE):
    return access.read(
        Actor.for_user(world.official),
        agreement.reference,
        world.purpose.code,
        case,
        (subject or world.citizen).id,
        list(fields),
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_page_needs_a_signed_in_person(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_mein_konto_links_to_the_page(client, world):
    sign_in(client, world.citizen)
    assert 'href="/konto/datenzugriffe"' in client.get("/konto/").get_data(as_text=True)


def test_the_page_shows_who_read_what_why_on_which_basis_and_links_the_proof(client, world):
    agreement = approved_agreement(world)
    result = _read(world, agreement)
    sign_in(client, world.citizen)
    response = client.get(PAGE)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = _text(response)
    assert "Straßenverkehrsamt: Baugenehmigungen" in html
    assert "Bauordnungsamt" in html
    assert "Aktenzeichen, Stand des Verfahrens" in html  # field labels, not names
    assert "Prüfung einer verkehrsrechtlichen Anordnung" in html
    assert "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO" in html
    assert CASE in html
    assert "Abgerufen: Die Angaben wurden übermittelt." in html
    assert f'href="/konto/protokoll/{result.audit_seq()}"' in html
    assert "Wird mit dem nächsten signierten Prüfpunkt" in html
    assert "genehmigt" not in html  # the page shows what was read, never the values


def test_a_refused_attempt_is_shown_in_words(client, world):
    agreement = approved_agreement(world)
    with pytest.raises(AccessRefused):
        _read(world, agreement, fields=("aktenzeichen", "behinderung"))
    sign_in(client, world.citizen)
    html = _text(client.get(PAGE))
    assert "Abgelehnt: Es wurden Angaben verlangt, die die Vereinbarung nicht erlaubt." in html
    assert "Verlangte Angaben" in html and "Nachweis Schwerbehinderung" in html


def test_an_entry_covered_by_a_checkpoint_says_it_is_sealed(client, runner, world):
    agreement = approved_agreement(world)
    _read(world, agreement)
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    _read(world, agreement)  # after the checkpoint: not sealed yet
    sign_in(client, world.citizen)
    html = _text(client.get(PAGE))
    assert html.count("Bereits in einem signierten Prüfpunkt enthalten.") == 1
    assert html.count("Wird mit dem nächsten signierten Prüfpunkt") == 1


def test_each_citizen_sees_only_their_own_entries(client, world):
    agreement = approved_agreement(world)
    mine = _read(world, agreement, case="FALL-BEA")
    theirs = _read(world, agreement, subject=world.other_citizen, case="FALL-NILS")
    sign_in(client, world.citizen)
    html = _text(client.get(PAGE))
    assert "FALL-BEA" in html and f"/konto/protokoll/{mine.audit_seq()}" in html
    assert "FALL-NILS" not in html and f'/konto/protokoll/{theirs.audit_seq()}"' not in html
    other = client.application.test_client()
    sign_in(other, world.other_citizen)
    html = _text(other.get(PAGE))
    assert "FALL-NILS" in html and "FALL-BEA" not in html


def test_entries_older_than_two_years_are_not_listed(client, world):
    agreement = approved_agreement(world)
    _read(world, agreement, case="ALT-1")
    _read(world, agreement, case="NEU-1")
    db.session.execute(
        sa.update(AccessLog)
        .where(AccessLog.case_reference == "ALT-1")
        .values(occurred_at=utcnow() - timedelta(days=731))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    sign_in(client, world.citizen)
    html = _text(client.get(PAGE))
    assert "NEU-1" in html and "ALT-1" not in html
    assert "1 Eintrag seit dem" in html


def _add_entries(world: World, agreement, count: int) -> None:
    for i in range(count):
        _read(world, agreement, case=f"Q-{i}")


def test_the_page_needs_the_same_number_of_queries_for_3_and_for_40_entries(client, world):
    agreement = approved_agreement(world, rate_limit_per_hour=1000)
    sign_in(client, world.citizen)

    def queries_for(url: str) -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    _add_entries(world, agreement, 3)
    few = queries_for(PAGE)
    _add_entries(world, agreement, 37)
    many = queries_for(PAGE)
    assert many == few, (few, many)
    html = _text(client.get(PAGE))
    assert "40 Einträge" in html and "Seite 1 von 2" in html
    second = _text(client.get(PAGE + "?page=2"))
    assert "Q-0" in second and "Q-39" not in second
    assert client.get(PAGE + "?page=99999").status_code == 200
