"""Data access between departments in a real browser: the citizen's log of accesses and its proofs, the
once-only consent, the steward's catalogue and an agreement through both approvals, break-glass with the dpo's
review; axe-core scans every page on the way and every staff page of the service."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, axe_violations, forget_person, goto, sign_in

pytestmark = pytest.mark.e2e

PURPOSE = "Prüfung einer verkehrsrechtlichen Anordnung"
CITATION = "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO"


def _with_totp(*emails: str) -> dict[str, str]:
    """Two-factor sign-in for these staff (in the app context); their TOTP secrets by e-mail."""
    import pyotp
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.timeutil import utcnow

    secrets = {}
    for email in emails:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        user.totp_secret, user.totp_enabled_at = pyotp.random_base32(), utcnow()
        secrets[email] = user.totp_secret
    db.session.commit()
    return secrets


def _staff_sign_in(page: Page, live: LiveServer, secrets: dict[str, str], email: str) -> None:
    from tests.builders import PASSWORD

    forget_person(page)  # the next person at the same browser
    sign_in(page, live, email, PASSWORD, secrets[email])


def _row(scope: Page | Locator, label: str) -> Locator:
    """The value (dd) of the description-list row whose key (dt) is `label`."""
    return scope.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")


def _flash(page: Page) -> Locator:
    return page.locator(".site-flash").first


# --- the citizen --------------------------------------------------------------------------------------------


def test_the_citizen_sees_who_read_their_data_and_checks_the_proof(page: Page, live_server: LiveServer):
    from dataaccess.services import access
    from portal.actors import Actor
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from tests.builders import PASSWORD
    from tests.dataaccess.builders import approved_agreement, make_world

    with live_server.app.app_context():
        world = make_world()
        agreement = approved_agreement(world)
        official = Actor.for_user(world.official)
        mine = access.read(official, agreement.reference, "VERK-ANORD", "VA-2026-0815", world.citizen.id,
                           ["aktenzeichen", "status"])  # fmt: skip
        theirs = access.read(official, agreement.reference, "VERK-ANORD", "VA-2026-0999", world.other_citizen.id,
                             ["aktenzeichen"])  # fmt: skip
        seq, their_seq = mine.audit_seq(), theirs.audit_seq()
        event = db.session.get(AuditEvent, seq)
        assert event is not None
        event_hash = event.hash
    # The next checkpoint seals the entry: the proof page then shows its inclusion path.
    sealed = live_server.app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert sealed.exit_code == 0, sealed.output

    sign_in(page, live_server, "buerger@example.org", PASSWORD)
    goto(page, live_server("/konto/"))
    page.get_by_role("link", name="Datenzugriffe").first.click()
    page.wait_for_url("**/konto/datenzugriffe")
    expect(page.locator("h1")).to_have_text("Datenzugriffe")
    expect(page.locator("main")).to_contain_text("Sie haben keinen offenen Antrag auf Datenabruf.")
    entries = page.locator("ol.dataaccess-log > li")
    expect(entries).to_have_count(1)  # Nils's entry is not on Bea's page
    entry = entries.first
    expect(entry.get_by_role("heading", level=3)).to_have_text("Straßenverkehrsamt: Baugenehmigungen")
    expect(_row(entry, "Ergebnis")).to_have_text("Abgerufen: Die Angaben wurden übermittelt.")
    expect(_row(entry, "Abrufendes Amt")).to_have_text("Straßenverkehrsamt")
    expect(_row(entry, "Daten von")).to_have_text("Bauordnungsamt")
    expect(_row(entry, "Angaben")).to_have_text("Aktenzeichen, Stand des Verfahrens")  # labels, not names
    expect(_row(entry, "Zweck")).to_have_text(PURPOSE)
    expect(_row(entry, "Rechtsgrundlage")).to_have_text(CITATION)
    expect(_row(entry, "Aktenzeichen des Vorgangs")).to_have_text("VA-2026-0815")
    expect(_row(entry, "Nachweis")).to_contain_text("Bereits in einem signierten Prüfpunkt enthalten.")
    expect(page.locator("main")).not_to_contain_text("VA-2026-0999")
    expect(page.locator("main")).not_to_contain_text("genehmigt")  # what was read, never the values
    assert_accessible(page, "Datenzugriffe with one entry")

    entry.get_by_role("link", name=f"Protokolleintrag Nr. {seq} prüfen").click()
    page.wait_for_url(f"**/konto/protokoll/{seq}")
    expect(page.locator("h1")).to_have_text(f"Nachweis zu Eintrag Nr. {seq}")
    expect(_row(page, "Zweck")).to_have_text(PURPOSE)
    expect(_row(page, "Rechtsgrundlage")).to_have_text(CITATION)
    expect(_row(page, "Eintrag Nr.")).to_have_text(str(seq))
    expect(_row(page, "Hash des Eintrags")).to_have_text(event_hash)
    expect(_row(page, "Signatur (Ed25519)")).not_to_be_empty()
    expect(page.get_by_role("heading", name="Prüfpfad (Inklusionsbeweis nach RFC 9162)")).to_be_visible()
    expect(page.get_by_role("link", name="Nachweis herunterladen (JSON)")).to_be_visible()
    assert_accessible(page, "proof of the access")

    # The other citizen's entry has no proof page for Bea.
    assert goto(page, live_server(f"/konto/protokoll/{their_seq}")).status == 404


def test_the_citizen_asks_for_the_once_only_fetch_and_revokes_it(page: Page, live_server: LiveServer):
    from dataaccess.errors import AccessRefused
    from dataaccess.services import access
    from portal.accounts.models import User
    from portal.actors import Actor
    from portal.extensions import db
    from tests.builders import PASSWORD
    from tests.dataaccess.builders import approved_agreement, make_world

    with live_server.app.app_context():
        world = make_world()
        reference = approved_agreement(world, requires_citizen_request=True).reference
        official_id, citizen_id = world.official.id, world.citizen.id

    def fetch(case: str) -> str:
        """What the Verkehrsamt's official gets when they fetch Bea's record for `case` under the agreement."""
        with live_server.app.app_context():
            official = Actor.for_user(db.session.get(User, official_id))
            try:
                access.read(official, reference, "VERK-ANORD", case, citizen_id, ["status"])
            except AccessRefused as refused:
                return refused.code
            return "granted"

    assert fetch("VA-1") == "citizen_request_missing"
    ask = f"/konto/datenzugriffe/anfrage?agreement={reference}&purpose=VERK-ANORD&case=VA-2&return=/konto/datenzugriffe"
    sign_in(page, live_server, "buerger@example.org", PASSWORD)
    goto(page, live_server(ask))
    expect(page.locator("h1")).to_have_text("Daten abrufen lassen?")
    shown = page.locator("main dl").first
    expect(_row(shown, "Abrufendes Amt")).to_have_text("Straßenverkehrsamt")
    expect(_row(shown, "Daten von")).to_have_text("Bauordnungsamt")
    expect(_row(shown, "Datenbestand")).to_have_text("Baugenehmigungen")
    expect(_row(shown, "Angaben").locator("li")).to_have_text(["Aktenzeichen", "Bauvorhaben", "Stand des Verfahrens"])
    expect(_row(shown, "Zweck")).to_have_text(PURPOSE)
    expect(_row(shown, "Rechtsgrundlage")).to_have_text(CITATION)
    expect(_row(shown, "Für den Vorgang")).to_have_text("VA-2")
    expect(page.locator("main")).not_to_contain_text("Geburtsdatum")  # not in the agreement: not fetched
    assert_accessible(page, "once-only preview")

    page.get_by_label("Dauerhaft, bis ich widerrufe").check()
    page.get_by_role("button", name="Ja, abrufen lassen").click()
    page.wait_for_url("**/konto/datenzugriffe?datenabruf=ja")
    expect(_flash(page)).to_contain_text("Straßenverkehrsamt darf die angezeigten Angaben nun bei Bauordnungsamt")
    standing = page.locator("ul.dataaccess-requests > li")
    expect(standing).to_have_count(1)
    expect(standing.get_by_role("heading", level=3)).to_have_text("Baugenehmigungen – Bauordnungsamt")
    expect(_row(standing, "Gilt")).to_have_text("dauerhaft, bis Sie widerrufen")
    assert_accessible(page, "Datenzugriffe with a standing request")

    assert fetch("VA-3") == "granted"
    goto(page, live_server("/konto/datenzugriffe"))
    expect(page.locator("ol.dataaccess-log")).to_contain_text("VA-3")

    standing.get_by_role("button", name="Widerrufen – Baugenehmigungen, Straßenverkehrsamt").click()
    expect(_flash(page)).to_contain_text("Ihr Antrag auf Datenabruf ist widerrufen.")
    expect(page.locator("ul.dataaccess-requests")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Sie haben keinen offenen Antrag auf Datenabruf.")
    assert_accessible(page, "Datenzugriffe after revoking")
    assert fetch("VA-4") == "citizen_request_missing"


def test_the_citizen_declines_and_uploads_the_document_instead(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD
    from tests.dataaccess.builders import approved_agreement, make_world

    with live_server.app.app_context():
        world = make_world()
        reference = approved_agreement(world, requires_citizen_request=True).reference
    sign_in(page, live_server, "buerger@example.org", PASSWORD)
    goto(page, live_server(f"/konto/datenzugriffe/anfrage?agreement={reference}&purpose=VERK-ANORD&return=/konto/"))
    page.get_by_role("button", name="Nein, ich lade es selbst hoch").click()
    page.wait_for_url("**/konto/?datenabruf=nein")
    expect(_flash(page)).to_contain_text("Es werden keine Daten abgerufen.")

    goto(page, live_server("/konto/datenzugriffe"))
    expect(page.locator("main")).to_contain_text("Sie haben keinen offenen Antrag auf Datenabruf.")

    # A link that names no agreement in force says so, and fetches nothing.
    response = goto(page, live_server("/konto/datenzugriffe/anfrage?agreement=DZV-2026-999999&purpose=VERK-ANORD"))
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Datenabruf nicht möglich")
    assert_accessible(page, "invalid once-only link")


# --- staff: catalogue and agreements --------------------------------------------------------------------------


def test_an_agreement_is_drafted_submitted_and_approved_by_two_other_people(page: Page, live_server: LiveServer):
    from tests.builders import make_user
    from tests.dataaccess.builders import add_member, make_world

    with live_server.app.app_context():
        world = make_world()
        # Sven stewards the Bauamt's data and also drafts for the Verkehrsamt; Stefanie is the Bauamt's second steward.
        add_member(world.steward, world.verkehr, "data_steward")
        make_user("stefanie@stadt.example", department=world.bauamt, department_role="data_steward",
                  display_name="Stefanie")  # fmt: skip
        secrets = _with_totp("steward@stadt.example", "stefanie@stadt.example", "dsb@stadt.example")

    _staff_sign_in(page, live_server, secrets, "steward@stadt.example")
    goto(page, live_server("/admin/datenzugriff/"))
    expect(page.locator("h1")).to_have_text("Datenzugriffe zwischen Ämtern")
    page.get_by_role("link", name="Datenbestände und Felder verwalten").click()
    expect(page.get_by_role("row", name="Baugenehmigungen")).to_contain_text("bauamt.baugenehmigungen")
    page.get_by_role("link", name="Neuen Datenbestand anlegen").click()
    expect(page.locator("h1")).to_have_text("Neuen Datenbestand anlegen")
    assert_accessible(page, "new dataset form")
    page.get_by_label("Amt, dem die Daten gehören").select_option(label="Bauordnungsamt")
    page.get_by_label("Schlüssel").fill("bauamt.bauantraege")
    page.get_by_label("Bezeichnung").fill("Bauanträge")
    page.get_by_label("Bürgerkonto im Stadtportal").check()
    page.get_by_label("Aufbewahrungsfrist (Tage)").fill("3650")
    page.get_by_role("button", name="Speichern").click()
    expect(_flash(page)).to_contain_text("Der Datenbestand „Bauanträge“ ist angelegt.")
    expect(page.locator("h1")).to_have_text("Datenbestand „Bauanträge“")
    page.get_by_role("link", name="Feld hinzufügen").click()
    page.get_by_label("Feldname").fill("aktenzeichen")
    page.get_by_label("Bezeichnung").fill("Aktenzeichen des Bauantrags")
    page.get_by_label("Kategorie personenbezogener Daten").select_option(label="Verfahrens- und Vorgangsdaten")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("row", name="aktenzeichen")).to_contain_text("Aktenzeichen des Bauantrags")
    assert_accessible(page, "dataset with one field")

    goto(page, live_server("/admin/datenzugriff/vereinbarungen/neu"))
    page.get_by_label("Lesendes Amt").select_option(label="Straßenverkehrsamt")
    page.get_by_label("Datenbestand").select_option(label="Bauanträge (Bauordnungsamt)")
    page.get_by_role("button", name="Weiter").click()
    expect(page.locator("h1")).to_have_text("Neue Vereinbarung entwerfen")
    assert_accessible(page, "agreement form, step 2")
    page.get_by_label("Aktenzeichen des Bauantrags (aktenzeichen)").check()
    page.get_by_label(f"VERK-ANORD – {PURPOSE}").check()
    page.get_by_label("Rechtsgrundlage").select_option(label=f"Straßenverkehrsrecht: {CITATION}")
    page.get_by_label("Begründung für die Freigabe").fill("Baustellenzufahrten prüfen")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(_flash(page)).to_contain_text("ist gespeichert. Prüfen Sie ihn")
    expect(page.locator("main")).to_contain_text("Stand: Entwurf")
    agreement_url = page.url
    page.get_by_label("Hinweis an die Entscheidenden").fill("Bitte bis Monatsende")
    page.get_by_role("button", name="Zur Freigabe vorlegen").click()
    expect(_flash(page)).to_contain_text("ist zur Freigabe vorgelegt")
    expect(page.locator("main")).to_contain_text("Stand: zur Freigabe vorgelegt")
    assert_accessible(page, "submitted agreement")

    # Sven asked for both approvals: he can decide neither, though he stewards the Bauamt.
    goto(page, live_server("/admin/freigaben"))
    expect(page.locator("main")).to_contain_text("Zurzeit wartet nichts auf Ihre Entscheidung.")
    mine = page.get_by_role("table", name="Freigaben, die Sie beantragt haben")
    expect(mine.locator("tbody tr")).to_have_count(2)
    mine.get_by_role("row", name="Datenverantwortung des Amts").get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("Sie selbst können sie nicht erteilen.")
    expect(page.get_by_role("button", name="Entscheidung speichern")).to_have_count(0)
    assert_accessible(page, "own approval request")

    for email, kind in (("stefanie@stadt.example", "Datenverantwortung des Amts"),
                        ("dsb@stadt.example", "Datenschutzbeauftragte Person")):  # fmt: skip
        _staff_sign_in(page, live_server, secrets, email)
        goto(page, live_server("/admin/freigaben"))
        waiting = page.get_by_role("table", name="Freigaben, die Sie entscheiden können")
        expect(waiting.locator("tbody tr")).to_have_count(1)  # only the request of their own role
        expect(waiting).to_contain_text(kind)
        expect(waiting).to_contain_text("Bauanträge")
        assert_accessible(page, f"approvals waiting for {email}")
        waiting.get_by_role("link").click()
        page.get_by_label("Freigeben").check()
        page.get_by_role("button", name="Entscheidung speichern").click()
        expect(_flash(page)).to_contain_text("ist erteilt")

    goto(page, agreement_url)
    expect(page.locator("main")).to_contain_text("Stand: freigegeben, in Kraft")
    expect(_row(page, "Datenverantwortung des Amts, dem die Daten gehören")).to_contain_text("erteilt von Stefanie")
    expect(_row(page, "Datenschutzbeauftragte Person")).to_contain_text("erteilt von Dora")
    expect(_row(page, "Vorgelegt von")).to_contain_text("Sven")
    assert_accessible(page, "approved agreement")


# --- break-glass and the dpo's review -------------------------------------------------------------------------


def test_an_official_reads_in_an_emergency_and_the_dpo_closes_the_review(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD
    from tests.dataaccess.builders import make_world

    with live_server.app.app_context():
        world = make_world()
        citizen_id = world.citizen.id
        secrets = _with_totp("sachbearbeitung@stadt.example", "dsb@stadt.example")

    _staff_sign_in(page, live_server, secrets, "sachbearbeitung@stadt.example")
    goto(page, live_server("/admin/datenzugriff/"))
    page.get_by_role("link", name="Notfallzugriff öffnen").click()
    expect(page.locator("h1")).to_have_text("Notfallzugriff öffnen")
    assert_accessible(page, "break-glass form")
    page.get_by_role("button", name="Notfallzugriff öffnen").click()
    expect(page.locator("#error-summary")).to_be_visible()  # no category, no reason: nothing opens
    assert_accessible(page, "break-glass form with errors")

    page.get_by_label("Datenbestand").select_option(label="Baugenehmigungen (Bauordnungsamt)")
    page.get_by_label("Gefahr für Leib oder Leben").check()
    page.get_by_label("Begründung").fill("Einsturzgefahr der Garage, Bewohner nicht erreichbar")
    page.get_by_label("Aktenzeichen").fill("VA-NOT-17")
    page.get_by_role("button", name="Notfallzugriff öffnen").click()
    expect(_flash(page)).to_contain_text("Der Notfallzugriff ist geöffnet")
    expect(page.locator("h1")).to_have_text("Notfallzugriff auf „Baugenehmigungen“")
    expect(page.locator("main")).to_contain_text("Noch 60 Minuten geöffnet.")
    assert_accessible(page, "open break-glass session")

    page.get_by_label("Betroffene Person oder Akte").fill(str(citizen_id))
    page.get_by_label("Aktenzeichen (aktenzeichen)").check()
    page.get_by_label("Stand des Verfahrens (status)").check()
    page.get_by_role("button", name="Lesen").click()
    result = page.get_by_role("table", name="Gelesene Datensätze")
    expect(result.locator("tbody tr")).to_have_count(1)
    expect(result.locator("tbody tr")).to_have_text(["BG-2025-0101genehmigt"])
    expect(page.get_by_role("table", name="Abrufe in diesem Notfallzugriff")).to_contain_text("gelesen (1 Datensatz)")
    assert_accessible(page, "break-glass read result")
    page.get_by_role("button", name="Notfallzugriff beenden").click()
    expect(_flash(page)).to_contain_text("Der Notfallzugriff ist beendet.")
    expect(page.get_by_role("button", name="Lesen")).to_have_count(0)

    _staff_sign_in(page, live_server, secrets, "dsb@stadt.example")
    goto(page, live_server("/admin/datenzugriff/datenschutz/"))
    expect(page.locator("main")).to_contain_text("Offene Prüfungen von Notfallzugriffen: 1")
    goto(page, live_server("/admin/datenzugriff/"))
    page.get_by_role("link", name="Notfallzugriffe prüfen").click()
    opened = page.get_by_role("table", name="Offene Prüfungen")
    expect(opened.locator("tbody tr")).to_have_count(1)
    expect(opened).to_contain_text("Olaf, Straßenverkehrsamt")
    expect(opened).to_contain_text("1 (1)")
    opened.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Notfallzugriff auf „Baugenehmigungen“ prüfen")
    expect(_row(page, "Begründung")).to_have_text("Einsturzgefahr der Garage, Bewohner nicht erreichbar")
    assert_accessible(page, "dpo's review page")
    page.get_by_label("Gerechtfertigt", exact=True).check()
    page.get_by_label("Vermerk").fill("Einsturzgefahr bestätigt, Feuerwehr vor Ort")
    page.get_by_role("button", name="Prüfung abschließen").click()
    page.wait_for_url("**/admin/datenzugriff/datenschutz/notfall")
    expect(_flash(page)).to_contain_text("Die Prüfung ist abgeschlossen: gerechtfertigt.")
    expect(page.locator("main")).to_contain_text("Keine offenen Prüfungen.")
    expect(page.get_by_role("table", name="Abgeschlossene Prüfungen")).to_contain_text("gerechtfertigt")
    assert_accessible(page, "dpo's reviews after closing")

    # Bea sees the emergency read in her log, with the category as its purpose.
    forget_person(page)
    sign_in(page, live_server, "buerger@example.org", PASSWORD)
    goto(page, live_server("/konto/datenzugriffe"))
    entry = page.locator("ol.dataaccess-log > li").first
    expect(_row(entry, "Zweck")).to_have_text("Notfallzugriff: Gefahr für Leib oder Leben")
    expect(_row(entry, "Aktenzeichen des Vorgangs")).to_have_text("VA-NOT-17")


# --- every staff page of the service, for the dpo and a data steward ----------------------------------------


def _staff_pages(app: Flask) -> list[str]:
    prefix = "/admin/datenzugriff"
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and "GET" in (rule.methods or ()) and not rule.arguments
    )


def _scan(page: Page, live: LiveServer, paths: list[str]) -> dict[str, int]:
    failures, statuses = [], {}
    for path in paths:
        response = goto(page, live(path))
        statuses[path] = response.status
        if response.status == 403:
            continue  # the refusal page, scanned with the portal's other pages
        count, report = axe_violations(page)
        if response.status != 200 or count:
            failures.append(f"{path}: HTTP {response.status}, {count} violation(s)\n{report}")
    assert not failures, "\n\n".join(failures)
    return statuses


def test_the_staff_pages_have_no_axe_violations_for_the_dpo_and_a_steward(page: Page, live_server: LiveServer):
    from dataaccess.errors import AccessRefused
    from dataaccess.services import access, breakglass
    from portal.actors import Actor
    from tests.dataaccess.builders import approved_agreement, make_world, submitted_agreement

    with live_server.app.app_context():
        world = make_world()
        agreement = approved_agreement(world)
        submitted_agreement(world, fields=["status"])  # a second version waiting for its approvals
        official = Actor.for_user(world.official)
        access.read(official, agreement.reference, "VERK-ANORD", "VA-1", world.citizen.id, ["status"])
        with pytest.raises(AccessRefused):  # a refusal, for the dpo's overview
            access.read(official, agreement.reference, "WERBUNG", "VA-2", world.citizen.id, ["status"])
        session = breakglass.open_session(
            official, department_id=world.verkehr.id, dataset_id=world.permits.id, category="public_safety",
            reason="Gasgeruch im Haus, Eigentümer unbekannt", case_reference="VA-3",
        )  # fmt: skip
        access.read(official, None, None, None, world.citizen.id, ["status"], breakglass=session.id)
        secrets = _with_totp("dsb@stadt.example", "steward@stadt.example")
    paths = _staff_pages(live_server.app)
    assert {"/admin/datenzugriff/", "/admin/datenzugriff/datenschutz/", "/admin/datenzugriff/notfall"} <= set(paths)

    _staff_sign_in(page, live_server, secrets, "dsb@stadt.example")
    statuses = _scan(page, live_server, paths)
    assert {p for p, s in statuses.items() if s != 200} == {
        "/admin/datenzugriff/datenbestaende/neu",  # the dpo owns no data
        "/admin/datenzugriff/vereinbarungen/neu",  # nor drafts for a department
        "/admin/datenzugriff/notfall",  # nor reads for one
    }, statuses

    _staff_sign_in(page, live_server, secrets, "steward@stadt.example")
    statuses = _scan(page, live_server, paths)
    assert {p for p, s in statuses.items() if s == 200} >= {
        "/admin/datenzugriff/",
        "/admin/datenzugriff/datenbestaende",
        "/admin/datenzugriff/datenbestaende/neu",
        "/admin/datenzugriff/vereinbarungen",
        "/admin/datenzugriff/notfall",
    }, statuses
    assert statuses["/admin/datenzugriff/datenschutz/"] == 403, statuses
