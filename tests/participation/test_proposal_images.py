"""A proposal's optional image: uploaded with the form (PNG or JPEG, checked by content), described for people who
do not see it, kept through the similar-proposals step and corrections, shown to everyone only while the proposal
is published (inline, never sniffed, sandboxed, cacheable for a while, not audited per view), to its author and
those who moderate it otherwise; gone with detaching and with the author's account."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from participation.errors import ParticipationError
from participation.models import Consultation, Proposal
from participation.services import consultations, images, moderation, proposals
from participation.services.detach import detach_authors
from portal.accounts.models import User
from portal.accounts.services.profile import delete_account
from portal.actors import Actor
from portal.extensions import db
from portal.files.models import StoredFile
from portal.timeutil import utcnow
from tests.builders import PASSWORD, csrf_from
from tests.participation.builders import actor, events, fresh, make_consultation, make_proposal
from tests.portal.audit.helpers import sign_in
from tests.portal.files import samples

CLICKS = 3


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    return {**app_config, "FILE_STORAGE": "local", "FILE_STORAGE_PATH": str(tmp_path / "files")}


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _file(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _propose(client, slug: str, **fields):
    url = f"/beteiligung/{slug}/vorschlag"
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "title": "Trinkbrunnen am Markt", "body": "Im Sommer.", **fields}
    return client.post(url, data=data, content_type="multipart/form-data")


def _proposals() -> list[Proposal]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Proposal).order_by(Proposal.id)))


def _stored(key: str) -> StoredFile:
    db.session.expire_all()
    return db.session.scalars(sa.select(StoredFile).where(StoredFile.key == key)).one()


def _carried_key(html: str) -> str:
    match = re.search(r'name="image_key" type="hidden" value="([^"]+)"', html)
    assert match, "the form does not carry the image"
    return match.group(1)


def _image_of(world, consultation, user=None, data: bytes | None = None, **kwargs) -> Proposal:
    """A proposal with an image, through the services the form calls."""
    who = actor(user or world.anna)
    upload = FileStorage(stream=io.BytesIO(data or samples.jpeg()), filename="foto.jpg")
    stored = images.take_image(who, consultation.id, upload)
    return make_proposal(
        world, consultation, user, image_key=stored.key, image_alt="Ein leerer Platz in der Sonne", **kwargs
    )


# --- proposing with an image -------------------------------------------------------------------------------------


def test_a_proposal_with_an_image_shows_it_to_everyone_with_its_description(app, client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)
    form = _text(client.get(f"/beteiligung/{consultation.slug}/vorschlag"))
    png = samples.png(120, 80)

    response = _propose(
        client, consultation.slug, image=_file(png, "Platz.png"), image_alt="Der Marktplatz ohne Schatten"
    )

    assert 'enctype="multipart/form-data"' in form
    assert 'accept=".png,.jpg,.jpeg,image/png,image/jpeg"' in form
    assert "Erlaubt: PNG oder JPEG, höchstens 10 MB." in form and "Beschreibung des Bilds" in form
    assert response.status_code == 303
    [proposal] = _proposals()
    stored = _stored(proposal.image_key)
    assert (stored.owner_user_id, stored.purpose, stored.content_type) == (
        world.anna.id,
        "participation.proposal_image",
        "image/png",
    )
    assert proposal.image_alt == "Der Marktplatz ohne Schatten"

    page = _text(app.test_client().get(f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"))
    assert (
        f'<img class="participation-image" src="/beteiligung/bilder/{stored.key}" '
        'alt="Der Marktplatz ohne Schatten" width="120" height="80">'
    ) in page
    served = app.test_client().get(f"/beteiligung/bilder/{stored.key}")
    assert served.status_code == 200 and served.data == png


def test_the_public_image_is_inline_typed_by_its_content_sandboxed_cacheable_and_not_audited(app, world):
    consultation = make_consultation(world)
    jpeg = samples.jpeg()
    proposal = _image_of(world, consultation, data=jpeg)
    anonymous = app.test_client()

    served = anonymous.get(f"/beteiligung/bilder/{proposal.image_key}")

    assert served.status_code == 200 and served.data == jpeg
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    # Named after the proposal, never after the person's own file (which may carry their name).
    assert served.headers["Content-Disposition"] == f'inline; filename="{proposal.reference}.jpg"'
    assert served.headers["Cache-Control"] == "public, max-age=300"
    etag = served.headers["ETag"]
    assert etag
    again = anonymous.get(f"/beteiligung/bilder/{proposal.image_key}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert events("file.downloaded") == []  # public content: no audit event per view


def test_a_wrong_type_is_refused_next_to_the_field_and_what_was_typed_is_kept(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)

    response = _propose(
        client,
        consultation.slug,
        title="Sitzbänke",
        body="Zum <b>Ausruhen</b>.",
        image=_file(samples.pdf(1), "bank.pdf"),
        image_alt="Eine Bank",
    )

    html = _text(response)
    assert response.status_code == 422
    assert 'href="#image">Bild:' in html  # in the error summary, linked to the field
    assert re.search(r'<p class="kern-error" id="image-error">.*?PNG oder JPEG', html)
    assert 'value="Sitzbänke"' in html and "Zum &lt;b&gt;Ausruhen&lt;/b&gt;.</textarea>" in html
    assert 'value="Eine Bank"' in html
    assert _proposals() == []
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0


def test_a_file_named_like_an_image_is_judged_by_its_content(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)

    response = _propose(client, consultation.slug, image=_file(b"<script>alert(1)</script>", "bild.png"),
                        image_alt="Bild")  # fmt: skip

    assert response.status_code == 422
    assert re.search(r'id="image-error">', _text(response))
    assert _proposals() == []


def test_an_image_needs_a_description_and_is_kept_while_it_is_added(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)

    first = _propose(client, consultation.slug, image=_file(samples.png(), "platz.png"))

    html = _text(first)
    assert first.status_code == 422
    assert re.search(r'id="image_alt-error">.*?Beschreiben Sie kurz, was auf dem Bild zu sehen ist\.', html)
    assert "Ihr Bild „platz.png“ ist übernommen." in html
    key = _carried_key(html)
    assert f'src="/dateien/{key}"' in html  # the author's preview, through the access-checked route

    second = _propose(client, consultation.slug, image_key=key, image_alt="Der leere Platz")

    assert second.status_code == 303
    [proposal] = _proposals()
    assert (proposal.image_key, proposal.image_alt) == (key, "Der leere Platz")


def test_the_similar_proposals_step_keeps_the_uploaded_image(client, world):
    consultation = make_consultation(world)
    make_proposal(world, consultation, world.ben, title="Trinkbrunnen für den Markt")
    sign_in(client, world.anna)

    check = _propose(client, consultation.slug, image=_file(samples.jpeg(), "brunnen.jpg"), image_alt="Ein Brunnen")

    html = _text(check)
    assert check.status_code == 200 and "Ähnliche Vorschläge gibt es schon" in html
    key = _carried_key(html)
    assert 'value="Ein Brunnen"' in html

    done = _propose(client, consultation.slug, trotzdem="1", image_key=key, image_alt="Ein Brunnen")

    assert done.status_code == 303
    mine = _proposals()[-1]
    assert (mine.author_id, mine.image_key) == (world.anna.id, key)
    assert len(db.session.scalars(sa.select(StoredFile)).all()) == 1  # stored once, not twice


def test_someone_elses_image_key_is_never_attached(client, world):
    consultation = make_consultation(world)
    bens = images.take_image(
        actor(world.ben), consultation.id, FileStorage(stream=io.BytesIO(samples.png()), filename="ben.png")
    )
    sign_in(client, world.anna)

    response = _propose(client, consultation.slug, image_key=bens.key, image_alt="Fremdes Bild")

    assert response.status_code == 303
    [proposal] = _proposals()
    assert proposal.image_key is None
    with pytest.raises(ParticipationError) as refused:
        proposals.create_proposal(
            actor(world.anna), consultation.id, title="Noch einer", body="Text", image_key=bens.key, image_alt="x"
        )
    assert (refused.value.field, refused.value.code) == ("image", "unknown_image")


def test_an_image_belongs_to_one_proposal_only(world):
    consultation = make_consultation(world)
    first = _image_of(world, consultation)

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, title="Zweiter", image_key=first.image_key, image_alt="Dasselbe Bild")

    assert refused.value.code == "unknown_image"
    assert len(_proposals()) == 1


def test_a_double_click_attaches_the_image_once_and_refuses_the_second_under_the_lock(app, world):
    consultation = make_consultation(world)
    stored = images.take_image(
        actor(world.anna), consultation.id, FileStorage(stream=io.BytesIO(samples.png()), filename="a.png")
    )
    key, consultation_id, user_id = stored.key, consultation.id, world.anna.id
    barrier = threading.Barrier(CLICKS)
    outcomes: list[str] = []

    def click(number: int) -> None:
        with app.app_context():
            try:
                person = Actor.for_user(db.session.get(User, user_id))
                barrier.wait()
                proposals.create_proposal(
                    person, consultation_id, title=f"Klick {number}", body="Text", image_key=key, image_alt="Bild"
                )
                outcomes.append("created")
            except ParticipationError as error:
                outcomes.append(error.code)
            except Exception as error:  # reported by the assertion below
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()  # the test's own connection must hold no lock while the clicks race
    threads = [threading.Thread(target=click, args=(n,)) for n in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "a click hung"
    assert outcomes.count("created") == 1, outcomes
    # Whoever came second was refused before the lock (unknown_image) or under it (image_taken): never a 500.
    assert set(outcomes) - {"created"} <= {"unknown_image", "image_taken"}, outcomes
    assert [p.image_key for p in _proposals()] == [key]


def test_the_check_under_the_lock_refuses_an_image_another_proposal_got_meanwhile(world, monkeypatch):
    consultation = make_consultation(world)
    first = _image_of(world, consultation)
    stored = _stored(first.image_key)
    monkeypatch.setattr(images, "own_image", lambda actor, key: stored)  # as if read before the first committed

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, title="Zweiter", image_key=stored.key, image_alt="Dasselbe Bild")

    assert (refused.value.code, refused.value.status) == ("image_taken", 409)
    assert len(_proposals()) == 1


def test_the_service_refuses_an_image_without_description(world):
    consultation = make_consultation(world)
    stored = images.take_image(
        actor(world.anna), consultation.id, FileStorage(stream=io.BytesIO(samples.png()), filename="a.png")
    )

    with pytest.raises(ParticipationError) as refused:
        make_proposal(world, consultation, image_key=stored.key, image_alt="   ")

    assert (refused.value.field, refused.value.code) == ("image_alt", "image_alt_required")


def test_removing_or_replacing_the_kept_image_deletes_the_old_file(client, world):
    consultation = make_consultation(world)
    sign_in(client, world.anna)
    first = _carried_key(_text(_propose(client, consultation.slug, title="", image=_file(samples.png(), "a.png"))))

    replaced = _text(
        _propose(client, consultation.slug, title="", image_key=first, image=_file(samples.jpeg(), "b.jpg"))
    )
    second = _carried_key(replaced)
    removed = _propose(client, consultation.slug, image_key=second, remove_image="y")

    assert second != first and "Ihr Bild „b.jpg“ ist übernommen." in replaced
    assert _stored(first).deleted_at is not None and _stored(second).deleted_at is not None
    assert removed.status_code == 303
    assert _proposals()[0].image_key is None


def test_uploading_an_image_needs_the_proposal_phase(world):
    consultation = make_consultation(world, phases=[("comments", -timedelta(days=1), timedelta(days=5))])

    with pytest.raises(ParticipationError) as refused:
        images.take_image(
            actor(world.anna), consultation.id, FileStorage(stream=io.BytesIO(samples.png()), filename="a.png")
        )

    assert (refused.value.field, refused.value.code) == ("image", "phase_closed")
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0


# --- who sees it --------------------------------------------------------------------------------------------------


def test_a_pending_proposals_image_is_not_public_but_its_author_and_moderators_see_it(app, client, world):
    consultation = make_consultation(world, premoderation=True)
    proposal = _image_of(world, consultation)
    public = f"/beteiligung/bilder/{proposal.image_key}"
    page = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"

    assert app.test_client().get(public).status_code == 404
    sign_in(client, world.anna)
    own = _text(client.get(page))
    assert f'src="/dateien/{proposal.image_key}"' in own and "Das Bild ist nicht öffentlich" in own
    assert client.get(f"/dateien/{proposal.image_key}").status_code == 200

    world.manager.totp_enabled_at = utcnow()
    db.session.commit()
    staff = app.test_client()
    sign_in(staff, world.manager)
    assert f'src="/dateien/{proposal.image_key}"' in _text(staff.get(page))
    assert staff.get(f"/dateien/{proposal.image_key}").status_code == 200
    [read] = events("file.downloaded")
    assert read.subject_user_id == world.anna.id  # Anna finds the moderator's look in her own log
    world.other_manager.totp_enabled_at = utcnow()
    db.session.commit()
    other = app.test_client()
    sign_in(other, world.other_manager)
    assert other.get(f"/dateien/{proposal.image_key}").status_code == 404

    moderation.publish(actor(world.manager), "proposal", proposal.id)
    assert app.test_client().get(public).status_code == 200


def test_a_hidden_proposals_image_is_not_served(app, world):
    consultation = make_consultation(world)
    proposal = _image_of(world, consultation)
    public = f"/beteiligung/bilder/{proposal.image_key}"
    assert app.test_client().get(public).status_code == 200

    moderation.hide(actor(world.manager), "proposal", proposal.id, reason="abuse")

    assert app.test_client().get(public).status_code == 404
    page = _text(app.test_client().get(f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"))
    assert "participation-image" not in page


def test_unknown_unattached_and_foreign_keys_are_not_found(app, world):
    consultation = make_consultation(world)
    loose = images.take_image(
        actor(world.anna), consultation.id, FileStorage(stream=io.BytesIO(samples.png()), filename="a.png")
    )
    client = app.test_client()

    for key in ("unbekannt", "x" * 65, loose.key):
        response = client.get(f"/beteiligung/bilder/{key}")
        assert response.status_code == 404, key
        assert response.mimetype == "text/html"


def test_a_consultation_called_bilder_does_not_take_the_images_address(world):
    consultation = make_consultation(world, title="Bilder")

    assert consultation.slug == "bilder-2"


# --- the image goes with the tie to the person ----------------------------------------------------------------------


def test_detaching_the_authors_removes_the_images_and_deletes_their_files(app, world):
    consultation = make_consultation(world)
    proposal = _image_of(world, consultation)
    key = proposal.image_key
    consultations.close(actor(world.manager), consultation.id)
    db.session.execute(
        sa.update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(closed_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()

    report = detach_authors()

    assert report.counts["images"] == 1
    assert (fresh(proposal).image_key, fresh(proposal).image_alt) == (None, None)
    assert _stored(key).deleted_at is not None
    assert app.test_client().get(f"/beteiligung/bilder/{key}").status_code == 404


def test_deleting_the_account_removes_the_image_with_the_persons_files(app, world):
    consultation = make_consultation(world)
    proposal = _image_of(world, consultation)
    key = proposal.image_key

    with app.test_request_context():
        delete_account(actor(world.anna), PASSWORD)

    assert (fresh(proposal).image_key, fresh(proposal).image_alt) == (None, None)
    assert _stored(key).deleted_at is not None
    assert app.test_client().get(f"/beteiligung/bilder/{key}").status_code == 404
