"""A person's uploaded files appear in "Meine Daten" and are erased with the account."""

from __future__ import annotations

from portal import files
from portal.accounts.services.profile import delete_account
from portal.files.policy import DOCUMENT
from portal.gdpr import collect, erasure_preview
from tests.builders import PASSWORD
from tests.portal.files.conftest import actor, details, events, stored_objects
from tests.portal.files.samples import png, upload


def test_export_lists_the_persons_files_and_deletion_erases_them(app, anna, files_dir):
    files.store_upload(actor(anna), upload(png(), "Foto Gehweg.png", "image/png"), DOCUMENT, purpose="test.photo")
    exported = collect(anna)
    assert [f["name"] for f in exported["files"]] == ["Foto Gehweg.png"]
    assert any("1 hochgeladene Datei wird gelöscht" in line for line in erasure_preview(anna))

    with app.test_request_context():  # deletion also signs the person out
        delete_account(actor(anna), PASSWORD)
    assert stored_objects(files_dir) == []
    [deleted] = events("account.deleted")
    assert details(deleted)["erased"]["files"] == {"files_deleted": 1}
