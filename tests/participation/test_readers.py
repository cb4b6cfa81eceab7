"""Council read access: a consultation's manager lets a council member read its figures before it closes (the
survey's results too, before they are public), and ends that again; every grant and revocation is audited, and
nobody else reads the figures."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden

from participation.errors import ParticipationError
from participation.models_readers import ConsultationReader
from participation.services import consultations, readers
from portal.accounts.models import User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import World, actor, events, make_consultation, make_person
from tests.participation.results_helpers import FREE_TEXT, HIDDEN_TEXT, HIDDEN_TITLE, Scenario, make_scenario
from tests.portal.audit.helpers import sign_in


@pytest.fixture
def scenario(world: World) -> Scenario:
    found = make_scenario(world)
    for user in (world.manager, world.other_manager, found.moderator):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return found


@pytest.fixture
def council(world: World) -> User:
    """A council member: an ordinary account, no role in the administration."""
    return make_person("rita.rat@stadtrat.example", display_name="Rita Rat")


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _figures_url(scenario: Scenario) -> str:
    return f"/beteiligung/{scenario.consultation.slug}/kennzahlen"


def _detail_url(scenario: Scenario) -> str:
    return f"/admin/beteiligung/{scenario.consultation.id}"


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_manager_grants_read_access_on_the_consultation_page_and_ends_it(client, scenario, council):
    world = scenario.world
    figures_url, detail_url = _figures_url(scenario), _detail_url(scenario)
    sign_in(client, council)
    assert client.get(figures_url).status_code == 403

    sign_in(client, world.manager)
    page = _text(client.get(detail_url))
    assert "Lesezugang zu den Kennzahlen" in page and "Bisher hat niemand Lesezugang." in page
    granted = client.post(
        f"{detail_url}/lesezugriff", data={"csrf_token": csrf_from(page), "email": "Rita.Rat@Stadtrat.example"}
    )
    assert granted.status_code == 303 and granted.headers["Location"].endswith(f"{detail_url}#lesezugriff")
    page = _text(client.get(detail_url))
    assert "Rita Rat" in page and "rita.rat@stadtrat.example" in page and "Zugang beenden" in page

    [event] = events("participation.reader_granted")
    assert event.subject_user_id == council.id and event.actor_id == str(world.manager.id)
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == council.email)).all()
    assert figures_url in mail.body_text and "Neugestaltung des Altmarkts" in mail.subject

    sign_in(client, council)
    assert client.get(figures_url).status_code == 200

    sign_in(client, world.manager)
    grant_id = readers.readers_of(actor(world.manager), scenario.consultation.id)[0].grant.id
    ended = client.post(
        f"{detail_url}/lesezugriff/{grant_id}/beenden", data={"csrf_token": csrf_from(client.get(detail_url).text)}
    )
    assert ended.status_code == 303
    assert "beendet am" in _text(client.get(detail_url))
    [revoked] = events("participation.reader_revoked")
    assert revoked.subject_user_id == council.id

    sign_in(client, council)
    assert client.get(figures_url).status_code == 403
    log = _text(client.get("/konto/protokoll"))
    assert "Sie können die Kennzahlen eines Beteiligungsverfahrens vorab einsehen" in log
    assert "Ihr Zugang zu den Kennzahlen eines Beteiligungsverfahrens wurde beendet" in log


def test_the_reader_sees_the_figures_and_the_survey_before_they_are_public_naming_nobody(client, scenario, council):
    world = scenario.world
    readers.grant(actor(world.manager), scenario.consultation.id, council.email)
    sign_in(client, council)

    # The survey runs in no phase of its own and the consultation is open: its results are not public yet.
    public = _text(client.get(f"/beteiligung/{scenario.consultation.slug}/umfrage/ergebnisse"))
    assert "Die Ergebnisse erscheinen, sobald die Umfrage beendet ist." in public
    page = _text(client.get(_figures_url(scenario)))

    assert "Kennzahlen des Verfahrens" in page and "Beteiligung im Zeitverlauf" in page
    assert "Mehr Bäume am Altmarkt" in page and "Angenommen" in page and "Wir pflanzen im Herbst" in page
    assert "Zwischenstand: Die Ergebnisse der Umfrage sind noch nicht öffentlich." in page
    assert "2 Personen haben teilgenommen." in page and "Zu Fuß" in page
    assert "Fälle (gemeldet oder vorab zu prüfen)" in page and "Jetzt ausgeblendete Beiträge" in page
    for forbidden in [*scenario.personal_data(), FREE_TEXT, HIDDEN_TEXT, HIDDEN_TITLE]:
        assert forbidden not in page, forbidden


def test_the_reader_downloads_the_council_report_and_the_download_is_audited(client, scenario, council):
    readers.grant(actor(scenario.world.manager), scenario.consultation.id, council.email)
    sign_in(client, council)

    response = client.get(f"{_figures_url(scenario)}/bericht.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "Bericht zum Beteiligungsverfahren" in text and "Mehr Bäume am Altmarkt" in text
    assert "Zu Fuß" in text  # the survey's results, before they are public
    assert "Anna Aktiv" not in text and FREE_TEXT not in text
    [exported] = events("participation.exported")
    assert exported.actor_id == str(council.id)


def test_who_may_read_the_figures(client, scenario, council):
    world = scenario.world
    url = _figures_url(scenario)
    draft = make_consultation(world, publish=False, title="Noch ein Entwurf")
    readers.grant(actor(world.manager), scenario.consultation.id, council.email)

    assert client.get(url).status_code == 302  # to the sign-in
    sign_in(client, world.ben)
    assert client.get(url).status_code == 403
    assert client.get(f"{url}/bericht.pdf").status_code == 403
    assert client.get(f"/beteiligung/{draft.slug}/kennzahlen").status_code == 404
    assert client.get("/beteiligung/gibt-es-nicht/kennzahlen").status_code == 404
    sign_in(client, world.other_manager)
    assert client.get(url).status_code == 403
    sign_in(client, council)
    assert client.get(f"/beteiligung/{draft.slug}/kennzahlen").status_code == 404  # read access is per consultation
    sign_in(client, world.manager)
    assert "So sehen die Personen mit Lesezugang diese Seite." in _text(client.get(url))


def test_only_the_consultations_managers_grant_and_end_access(client, scenario, council):
    world = scenario.world
    detail_url = _detail_url(scenario)
    reader = readers.grant(actor(world.manager), scenario.consultation.id, council.email)
    other = make_consultation(world, title="Ein anderes Verfahren")

    sign_in(client, world.other_manager)
    token = csrf_from(client.get("/admin/beteiligung/").text)
    assert (
        client.post(f"{detail_url}/lesezugriff", data={"csrf_token": token, "email": world.ben.email}).status_code
        == 403
    )
    assert client.post(f"{detail_url}/lesezugriff/{reader.id}/beenden", data={"csrf_token": token}).status_code == 403
    sign_in(client, world.ben)
    assert client.get(f"{detail_url}/lesezugriff").status_code == 403
    with pytest.raises(Forbidden):
        readers.grant(actor(world.ben), scenario.consultation.id, world.newcomer.email)
    sign_in(client, world.manager)
    # A grant belongs to its consultation: ending it through another one's address finds nothing.
    ended = client.post(
        f"/admin/beteiligung/{other.id}/lesezugriff/{reader.id}/beenden",
        data={"csrf_token": csrf_from(client.get(detail_url).text)},
    )
    assert ended.status_code == 404
    assert db.session.get(ConsultationReader, reader.id).revoked_at is None
    assert events("participation.reader_revoked") == []


def test_an_unknown_address_is_refused_next_to_the_field_and_stays_typed(client, scenario):
    world = scenario.world
    detail_url = _detail_url(scenario)
    sign_in(client, world.manager)
    token = csrf_from(client.get(detail_url).text)

    unknown = client.post(f"{detail_url}/lesezugriff", data={"csrf_token": token, "email": "niemand@stadtrat.example"})
    empty = client.post(f"{detail_url}/lesezugriff", data={"csrf_token": token, "email": ""})

    assert unknown.status_code == 422
    page = _text(unknown)
    assert "Bitte korrigieren Sie Ihre Eingaben" in page and 'id="email-error"' in page
    assert "Zu dieser E-Mail-Adresse gibt es kein Konto." in page and 'value="niemand@stadtrat.example"' in page
    assert empty.status_code == 422 and "Geben Sie die E-Mail-Adresse des Kontos an." in _text(empty)
    assert events("participation.reader_granted") == []


def test_one_grant_in_force_per_account_and_none_for_an_archived_consultation(scenario, council):
    world = scenario.world
    manager = actor(world.manager)
    first = readers.grant(manager, scenario.consultation.id, council.email)

    with pytest.raises(ParticipationError) as twice:
        readers.grant(manager, scenario.consultation.id, council.email)
    with pytest.raises(ParticipationError) as own:
        readers.grant(manager, scenario.consultation.id, world.manager.email)
    assert (twice.value.code, twice.value.status) == ("already_reader", 409)
    assert own.value.code == "own_account"

    readers.revoke(manager, scenario.consultation.id, first.id)
    with pytest.raises(ParticipationError) as again:
        readers.revoke(manager, scenario.consultation.id, first.id)
    assert again.value.code == "not_active"
    second = readers.grant(manager, scenario.consultation.id, council.email)  # granted anew after the end
    assert second.id != first.id and readers.is_reader(actor(council), scenario.consultation)

    consultations.close(manager, scenario.consultation.id)
    consultations.archive(manager, scenario.consultation.id)
    with pytest.raises(ParticipationError) as archived:
        readers.grant(manager, scenario.consultation.id, world.ben.email)
    assert archived.value.code == "archived"


def test_the_database_keeps_one_grant_in_force(scenario, council):
    consultation_id = scenario.consultation.id
    db.session.add(ConsultationReader(consultation_id=consultation_id, user_id=council.id))
    db.session.commit()
    db.session.add(ConsultationReader(consultation_id=consultation_id, user_id=council.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
