"""Storage and database stay in step: a file stored in a transaction that fails leaves nothing behind, erased
content goes only once the erasure committed, and `flask files check` finds what drifted apart anyway."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from portal.accounts.services.organisations import create_organisation
from portal.actors import SYSTEM
from portal.extensions import db
from portal.files import (
    FileNotFound,
    UploadPolicy,
    add_upload,
    check_upload,
    delete_file,
    discard_file,
    discard_files_of_user,
    erase_files_of_user,
    files_of_user,
    store_upload,
)
from portal.files.models import StoredFile
from portal.transaction import transaction
from tests.portal.files import samples
from tests.portal.files.conftest import actor, details, events, stored_objects

POLICY = UploadPolicy()


class BoomError(Exception):
    pass


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))


def test_a_file_added_in_a_transaction_that_fails_is_removed_from_storage(app, anna, files_dir):
    upload = samples.upload(samples.pdf(), "Plan.pdf")
    with check_upload(upload, POLICY) as checked, pytest.raises(BoomError), transaction():
        add_upload(actor(anna), checked, purpose="tests.a")
        assert len(stored_objects(files_dir)) == 1  # written before the commit ...
        raise BoomError  # ... and the service's own change failed

    assert stored_objects(files_dir) == []
    assert _count() == 0
    assert events("file.uploaded") == []


def test_a_file_added_with_the_services_own_change_stays_after_commit(app, anna, files_dir):
    upload = samples.upload(samples.png(), "Foto.png")
    with check_upload(upload, POLICY, field="photo") as checked, transaction():
        stored = add_upload(actor(anna), checked, purpose="tests.a")
    assert [p.relative_to(files_dir).as_posix() for p in stored_objects(files_dir)] == [stored.storage_key]
    assert _count() == 1


def test_discarding_in_a_transaction_that_fails_keeps_the_content(app, anna, files_dir):
    stored = store_upload(actor(anna), samples.upload(samples.pdf(), "Plan.pdf"), POLICY, purpose="tests.a")

    with pytest.raises(BoomError), transaction():
        discard_file(actor(anna), stored)
        raise BoomError

    assert len(stored_objects(files_dir)) == 1
    db.session.expire_all()
    assert db.session.get(StoredFile, stored.id).deleted_at is None


def test_only_the_owner_or_the_system_may_delete(app, anna, ben, files_dir):
    stored = store_upload(actor(anna), samples.upload(samples.pdf(), "Plan.pdf"), POLICY, purpose="tests.a")
    key = stored.key

    with pytest.raises(FileNotFound):
        delete_file(actor(ben), key)
    assert len(stored_objects(files_dir)) == 1

    delete_file(SYSTEM, key)
    assert stored_objects(files_dir) == []


def test_files_of_user_lists_a_persons_own_files_for_their_export(app, anna, ben):
    store_upload(actor(anna), samples.upload(samples.pdf(2), "Lageplan.pdf"), POLICY, purpose="permits.site_plan")
    store_upload(actor(anna), samples.upload(samples.png(), "Foto.png"), POLICY, purpose="tests.photo")
    store_upload(actor(ben), samples.upload(samples.png(), "Bens.png"), POLICY, purpose="tests.photo")
    organisation = create_organisation(actor(anna), "Bau GmbH")
    store_upload(
        actor(anna, f"organisation:{organisation.id}"),
        samples.upload(samples.pdf(), "Firma.pdf"),
        POLICY,
        purpose="t.x",
    )

    listing = files_of_user(anna.id)

    assert [(f["name"], f["type"], f["purpose"]) for f in listing] == [
        ("Lageplan.pdf", "application/pdf", "permits.site_plan"),
        ("Foto.png", "image/png", "tests.photo"),
    ]
    assert listing[1]["size"] == len(samples.png())
    assert listing[0]["uploaded_at"].endswith("+00:00")


def test_erasure_deletes_content_and_names_keeps_business_files_and_is_audited(app, anna, ben, files_dir):
    mine = store_upload(actor(anna), samples.upload(samples.pdf(), "Steuer.pdf"), POLICY, purpose="tests.a")
    kept_by_law = store_upload(actor(anna), samples.upload(samples.png(), "Akte.png"), POLICY, purpose="tests.case")
    bens = store_upload(actor(ben), samples.upload(samples.png(), "Ben.png"), POLICY, purpose="tests.a")
    organisation = create_organisation(actor(anna), "Bau GmbH")
    business = store_upload(
        actor(anna, f"organisation:{organisation.id}"),
        samples.upload(samples.pdf(), "Firma.pdf"),
        POLICY,
        purpose="t.x",
    )
    keys = {f.id: f.storage_key for f in (mine, kept_by_law, bens, business)}

    erased = erase_files_of_user(SYSTEM, anna.id, except_purposes=["tests.case"])

    assert erased == 1
    db.session.expire_all()
    row = db.session.get(StoredFile, mine.id)
    assert row.deleted_at is not None and row.filename == ""
    remaining = {p.relative_to(files_dir).as_posix() for p in stored_objects(files_dir)}
    assert remaining == {keys[kept_by_law.id], keys[bens.id], keys[business.id]}
    assert [f["name"] for f in files_of_user(anna.id)] == ["Akte.png"]
    [event] = events("file.erased", subject_user_id=anna.id)
    assert details(event) == {"count": 1}


def test_check_reports_missing_altered_and_left_over_objects_and_purges_them(app, anna, runner, files_dir):
    ok = store_upload(actor(anna), samples.upload(samples.pdf(), "ok.pdf"), POLICY, purpose="tests.a")
    gone = store_upload(actor(anna), samples.upload(samples.pdf(), "weg.pdf"), POLICY, purpose="tests.a")
    altered = store_upload(actor(anna), samples.upload(samples.png(), "neu.png"), POLICY, purpose="tests.a")
    assert runner.invoke(args=["files", "check"]).exit_code == 0

    (files_dir / gone.storage_key).unlink()
    (files_dir / altered.storage_key).write_bytes(b"changed")
    orphan = files_dir / "ab" / "cd" / ("ab" + "cd" + "0" * 36)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left over")
    an_hour_ago = time.time() - 3700
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    fresh = files_dir / "ab" / "cd" / ("ab" + "cd" + "1" * 36)
    fresh.write_bytes(b"an upload still in its transaction")

    result = runner.invoke(args=["files", "check", "--purge"])

    assert result.exit_code == 1
    assert f"fehlt im Speicher: stored_file {gone.id}" in result.output
    assert f"Prüfsumme weicht ab: stored_file {altered.id}" in result.output
    assert "ohne Datenbankeintrag: ab/cd/abcd000" in result.output
    assert "1 Objekte entfernt." in result.output
    assert not orphan.exists()
    assert fresh.exists()  # too young to be judged an orphan
    assert (files_dir / ok.storage_key).exists()


def test_erasure_inside_the_account_deletions_transaction_waits_for_its_commit(app, anna, files_dir):
    store_upload(actor(anna), samples.upload(samples.pdf(), "Steuer.pdf"), POLICY, purpose="tests.a")

    with pytest.raises(BoomError), transaction():
        assert discard_files_of_user(SYSTEM, anna.id) == 1
        raise BoomError  # another part of the deletion failed: everything stays

    assert len(stored_objects(files_dir)) == 1
    assert [f["name"] for f in files_of_user(anna.id)] == ["Steuer.pdf"]

    with transaction():
        assert discard_files_of_user(SYSTEM, anna.id) == 1
        assert len(stored_objects(files_dir)) == 1  # not before the commit

    assert stored_objects(files_dir) == []
    assert files_of_user(anna.id) == []
