"""The citizens' pages to read: the list with its filters and the Vorhabenliste, a consultation with its timeline
and proposals, a proposal with its comments, and a comment with its replies. Everything a participant or a manager
wrote comes back escaped. (What the pages cost the database: test_pages_statements.py.)"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from participation.models import Comment
from participation.services import consultations, supports
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.builders import (
    DAY,
    actor,
    make_comment,
    make_consultation,
    make_proposal,
    set_created_at,
)
from tests.portal.audit.helpers import sign_in

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
AREA = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [
            [[13.7373, 51.0504], [13.7376, 51.0504], [13.7376, 51.0505], [13.7373, 51.0505], [13.7373, 51.0504]]
        ],
    }
)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return _text(response)


def _hide(comment: Comment) -> None:
    db.session.execute(sa.update(Comment).where(Comment.id == comment.id).values(state="hidden"))
    db.session.commit()


# --- the list -------------------------------------------------------------------------------------------------


def test_the_list_shows_open_consultations_with_department_phase_dates_and_counts(client, world):
    consultation = make_consultation(world, district="Altstadt", topic="Verkehr")
    proposal = make_proposal(world, consultation)
    supports.support(actor(world.ben), proposal.id)

    html = _page(client, "/beteiligung/")

    assert f'href="/beteiligung/{consultation.slug}"' in html
    assert "Neugestaltung des Altmarkts" in html and "Wie soll der Altmarkt künftig aussehen?" in html
    assert "Stadtplanungsamt" in html and "Altstadt" in html and "Verkehr" in html
    assert "Aktuelle Phase: Phase proposals (Vorschläge sammeln), bis" in html
    assert "1 Vorschlag · 0 Kommentare · 1 Unterstützung" in html


def test_the_list_filters_by_district_and_topic(client, world):
    make_consultation(world, title="Spielplatz Neustadt", district="Neustadt", topic="Grün")
    make_consultation(world, title="Radweg Altstadt", district="Altstadt", topic="Verkehr")
    make_consultation(world, title="Parkplätze Altstadt", district="Altstadt", topic="Parken")

    altstadt = _page(client, "/beteiligung/?stadtteil=Altstadt")
    traffic = _page(client, "/beteiligung/?stadtteil=Altstadt&thema=Verkehr")

    assert "Radweg Altstadt" in altstadt and "Parkplätze Altstadt" in altstadt
    assert "Spielplatz Neustadt" not in altstadt
    assert "Radweg Altstadt" in traffic and "Parkplätze Altstadt" not in traffic
    # The filter keeps its choice, and the tabs keep the filter.
    assert '<option selected value="Altstadt">' in traffic or '<option value="Altstadt" selected>' in traffic
    assert 'href="/beteiligung/?liste=demnaechst&amp;stadtteil=Altstadt&amp;thema=Verkehr"' in traffic


def test_upcoming_closed_and_the_vorhabenliste(client, world):
    make_consultation(world, title="Läuft gerade")
    make_consultation(world, title="Kommt bald", phases=[("proposals", 5 * DAY, 20 * DAY)])
    ended = make_consultation(world, title="Schon vorbei")
    consultations.close(actor(world.manager), ended.id)

    upcoming = _page(client, "/beteiligung/?liste=demnaechst")
    closed = _page(client, "/beteiligung/?liste=abgeschlossen")
    planned = _page(client, "/beteiligung/?liste=vorhaben")

    assert "Kommt bald" in upcoming and "Läuft gerade" not in upcoming
    assert "Nächste Phase: Phase proposals, ab" in upcoming
    assert "Schon vorbei" in closed and "Abgeschlossen am" in closed and "Kommt bald" not in closed
    assert "Läuft gerade" in planned and "Kommt bald" in planned and "Schon vorbei" not in planned
    assert '<caption class="kern-sr-only">Vorhabenliste</caption>' in planned


# --- a consultation -------------------------------------------------------------------------------------------


def test_a_draft_is_not_found_for_the_public_but_shown_to_its_manager(client, world):
    draft = make_consultation(world, publish=False)

    _page(client, f"/beteiligung/{draft.slug}", 404)
    sign_in(client, world.anna)
    _page(client, f"/beteiligung/{draft.slug}", 404)
    _page(client, f"/beteiligung/{draft.slug}/vorschlag", 404)
    _page(client, "/beteiligung/gibt-es-nicht", 404)
    world.manager.totp_enabled_at = utcnow()
    db.session.commit()
    sign_in(client, world.manager)
    assert "Entwurf: Dieses Verfahren ist noch nicht veröffentlicht" in _page(client, f"/beteiligung/{draft.slug}")


def test_the_consultation_page_shows_body_contact_timeline_and_what_one_can_do_now(client, world):
    consultation = make_consultation(
        world,
        body="<h2>Hintergrund</h2><p>Der Markt wird <strong>neu</strong> gestaltet.</p>",
        contact_name="Frau Planer",
        contact_email="planung@stadt.example",
        phases=[("information", -3 * DAY, -DAY), ("proposals", -DAY, 10 * DAY), ("results", 10 * DAY, 20 * DAY)],
    )

    html = _page(client, f"/beteiligung/{consultation.slug}")

    assert "<h2>Hintergrund</h2><p>Der Markt wird <strong>neu</strong> gestaltet.</p>" in html
    assert "Frau Planer" in html and 'href="mailto:planung@stadt.example"' in html
    current = re.search(r'<li class="is-current" aria-current="step">.*?</li>', html)
    assert current and "Phase proposals" in current.group(0) and "Aktuelle Phase" in current.group(0)
    assert html.count("Aktuelle Phase</span>") == 1
    assert "Vorschläge einreichen:</strong> Bitte melden Sie sich an, um mitzumachen." in html
    assert f'href="/anmelden?next=/beteiligung/{consultation.slug}"' in html


def test_outside_its_phase_the_page_says_when_proposing_opens(client, world):
    consultation = make_consultation(world, phases=[("information", -DAY, 2 * DAY), ("proposals", 2 * DAY, 9 * DAY)])
    sign_in(client, world.anna)

    html = _page(client, f"/beteiligung/{consultation.slug}")
    form = _page(client, f"/beteiligung/{consultation.slug}/vorschlag")

    assert re.search(
        r"Vorschläge einreichen:</strong> Vorschläge einreichen ist ab dem \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr möglich\.",
        html,
    )
    assert "Vorschläge einreichen ist ab dem" in form and 'name="title"' not in form


def test_the_area_is_shown_on_a_map_with_its_text_alternative(client, world):
    consultation = make_consultation(world, area_geojson=AREA)

    html = _page(client, f"/beteiligung/{consultation.slug}")

    assert "data-map-view=" in html
    assert "Das Gebiet des Vorhabens – Fläche von etwa" in html


def test_proposals_are_paged_by_cursor_with_a_link_to_more(client, world):
    consultation = make_consultation(world)
    made = [make_proposal(world, consultation, title=f"Idee Nummer {n:02d}") for n in range(23)]
    for n, proposal in enumerate(made):
        set_created_at(proposal, utcnow() - (23 - n) * DAY / 100)

    first = _page(client, f"/beteiligung/{consultation.slug}")
    more = re.search(r'href="([^"]*nach=[^"#]+)#vorschlaege">Weitere Vorschläge', first)
    assert more
    second = _page(client, more.group(1).replace("&amp;", "&"))

    assert "Idee Nummer 22" in first and "Idee Nummer 03" in first and "Idee Nummer 02" not in first
    assert "Idee Nummer 02" in second and "Idee Nummer 00" in second and "Idee Nummer 03" not in second
    assert "Weitere Vorschläge" not in second and "Zum Anfang der Liste" in second


def test_proposals_sort_by_support_and_filter_by_category(client, world):
    consultation = make_consultation(world, categories=["Grün", "Verkehr"])
    trees = make_proposal(world, consultation, title="Bäume pflanzen", category="Grün")
    make_proposal(world, consultation, title="Radständer aufstellen", category="Verkehr")
    supports.support(actor(world.ben), trees.id)

    newest = _page(client, f"/beteiligung/{consultation.slug}")
    supported = _page(client, f"/beteiligung/{consultation.slug}?sortierung=unterstuetzt")
    green = _page(client, f"/beteiligung/{consultation.slug}?kategorie=Gr%C3%BCn")

    assert newest.index("Radständer aufstellen") < newest.index("Bäume pflanzen")
    assert supported.index("Bäume pflanzen") < supported.index("Radständer aufstellen")
    assert "Bäume pflanzen" in green and "Radständer aufstellen" not in green


def test_a_forged_cursor_is_a_bad_request(client, world):
    consultation = make_consultation(world)
    _page(client, f"/beteiligung/{consultation.slug}?nach=kaputt", 400)


# --- a proposal and its comments ------------------------------------------------------------------------------


def test_the_proposal_page_shows_text_pseudonym_category_place_and_support_count(client, world):
    consultation = make_consultation(world, categories=["Grün"], support_threshold=50)
    proposal = make_proposal(
        world, consultation, body="Zeile eins\nZeile zwei", category="Grün", lat=51.0504, lon=13.7373
    )
    supports.support(actor(world.ben), proposal.id)

    raw = client.get(f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}").get_data(as_text=True)
    html = re.sub(r"\s+", " ", raw)

    assert f"Vorschlag {proposal.reference}" in html and "Mehr Bäume am Altmarkt" in html
    assert "von Anna Aktiv am" in html and "Anna Echtname" not in html and "anna@example.org" not in html
    assert "Kategorie: Grün" in html
    assert '<p class="kern-body participation-text">Zeile eins\nZeile zwei</p>' in raw
    assert "Punkt bei 51,0504° N, 13,7373° O" in html
    assert "1 Person unterstützt diesen Vorschlag." in html
    assert "Ab 50 Unterstützungen beantwortet die Verwaltung einen Vorschlag offiziell." in html
    assert "Bitte melden Sie sich an, um mitzumachen." in html and "Vorschlag unterstützen" not in html


def test_a_proposal_of_another_consultation_is_not_found_at_this_address(client, world):
    here = make_consultation(world)
    there = make_consultation(world, title="Anderswo")
    proposal = make_proposal(world, there)
    _page(client, f"/beteiligung/{here.slug}/vorschlaege/{proposal.reference}", 404)


def test_a_pending_proposal_is_shown_to_its_author_marked_and_to_nobody_else(client, world):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"

    _page(client, url, 404)
    sign_in(client, world.ben)
    _page(client, url, 404)
    sign_in(client, world.anna)
    assert "Ihr Vorschlag wartet auf Freigabe" in _page(client, url)
    assert "wartet auf Freigabe" in _page(client, f"/beteiligung/{consultation.slug}")


def test_a_thread_shows_stances_and_hidden_comments_as_placeholders(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    make_comment(world, consultation, world.ben, proposal_id=proposal.id, body="Bin dafür.", stance="pro")
    rude = make_comment(world, consultation, world.ben, proposal_id=proposal.id, body="Etwas Beleidigendes")
    _hide(rude)

    html = _page(client, f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}")

    assert "Bin dafür." in html and "dafür</span>" in html and "Ben Beteiligt" in html
    assert "Etwas Beleidigendes" not in html
    assert "Dieser Beitrag wurde von der Moderation ausgeblendet." in html


def test_others_may_flag_a_contribution_and_the_author_of_a_hidden_one_may_learn_why(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    fine = make_comment(world, consultation, world.ben, proposal_id=proposal.id, body="Sachlich")
    rude = make_comment(world, consultation, world.ben, proposal_id=proposal.id, body="Unsachlich")
    _hide(rude)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"

    sign_in(client, world.anna)
    anna = _page(client, url)
    sign_in(client, world.ben)
    ben = _page(client, url)

    assert f'href="/beteiligung/melden/kommentar/{fine.id}?next={url}"' in anna
    assert f'href="/beteiligung/melden/vorschlag/{proposal.id}?next={url}"' not in anna  # her own proposal
    assert f"/beteiligung/melden/kommentar/{rude.id}" not in anna and "/beteiligung/moderation/" not in anna
    assert f'href="/beteiligung/melden/vorschlag/{proposal.id}?next={url}"' in ben
    assert f'href="/beteiligung/moderation/kommentar/{rude.id}">Warum ausgeblendet?' in ben
    assert f"/beteiligung/melden/kommentar/{fine.id}" not in ben  # his own comment


def test_replies_beyond_the_first_three_are_behind_weitere_antworten(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, proposal_id=proposal.id, body="Oben")
    for n in range(5):
        make_comment(world, consultation, world.ben, parent_id=top.id, body=f"Antwort {n}")

    html = _page(client, f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}")
    page = _page(client, f"/beteiligung/kommentare/{top.id}")

    assert "Antwort 2" in html and "Antwort 3" not in html
    assert f'href="/beteiligung/kommentare/{top.id}#antworten">Weitere Antworten' in html
    assert all(f"Antwort {n}" in page for n in range(5)) and "Oben" in page


def test_a_pending_comment_is_seen_only_by_its_author_marked(client, world):
    consultation = make_consultation(world, premoderation=True)
    comment = make_comment(world, consultation, body="Noch ungeprüft")

    _page(client, f"/beteiligung/kommentare/{comment.id}", 404)
    assert "Noch ungeprüft" not in _page(client, f"/beteiligung/{consultation.slug}")
    sign_in(client, world.anna)
    html = _page(client, f"/beteiligung/kommentare/{comment.id}")
    assert "Noch ungeprüft" in html and "wartet auf Freigabe" in html


# --- everything written comes back escaped --------------------------------------------------------------------


def test_scripts_in_every_text_field_come_back_escaped(client, world):
    consultation = make_consultation(
        world,
        title=f"Titel {XSS}",
        summary=f"Zusammenfassung {XSS}",
        body=f'<p>Text</p>{XSS}<a href="javascript:alert(1)">Link</a>',
        district=f"Bezirk {XSS}",
        topic=f"Thema {XSS}",
        categories=[f"Kategorie {XSS}"],
        contact_name=f"Kontakt {XSS}",
        audience="guests",
    )
    proposal = make_proposal(
        world, consultation, title=f"Vorschlag {XSS}", body=f"Text {XSS}", category=f"Kategorie {XSS}"
    )
    comment = make_comment(world, consultation, proposal_id=proposal.id, body=f"Kommentar {XSS}")
    make_comment(world, consultation, body=f"Zum Verfahren {XSS}")
    from participation.services import comments
    from portal.actors import ANONYMOUS

    guest = comments.create_comment(ANONYMOUS, consultation.id, body="Gast", guest_name=f"Gast {XSS}")
    db.session.execute(sa.update(Comment).where(Comment.id == guest.id).values(state="published"))
    db.session.commit()

    sign_in(client, world.anna)
    pages = [
        "/beteiligung/",
        "/beteiligung/?liste=vorhaben",
        f"/beteiligung/{consultation.slug}",
        f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}",
        f"/beteiligung/kommentare/{comment.id}",
        f"/beteiligung/kommentare/{guest.id}",
        f"/beteiligung/{consultation.slug}/vorschlag",
        "/konto/beteiligung",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "javascript:alert" not in html, url
    everything = " ".join(client.get(url).get_data(as_text=True) for url in pages)
    for written in ("Titel", "Zusammenfassung", "Bezirk", "Thema", "Kategorie", "Kontakt", "Vorschlag", "Text",
                    "Kommentar", "Zum Verfahren", "Gast"):  # fmt: skip
        assert f"{written} &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in everything, written
