"""Uploads are judged by their content: real files of each type are kept, disguised, damaged and oversized ones
are refused with a message that says what is allowed, and nothing of a refused file stays behind."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.files import FileError, UploadPolicy, store_upload
from portal.files.models import StoredFile
from portal.files.policy import MB
from portal.files.storage import get_storage
from tests.portal.files import samples
from tests.portal.files.conftest import actor, details, events, stored_objects

ANY = UploadPolicy(max_bytes=2 * MB, max_pdf_pages=5, max_image_pixels=1_000_000)
PDF_ONLY = UploadPolicy(max_bytes=2 * MB, allowed_types={"application/pdf"}, max_pdf_pages=5)


def _refused(user, data: bytes, name: str, policy: UploadPolicy = ANY) -> FileError:
    with pytest.raises(FileError) as refused:
        store_upload(actor(user), samples.upload(data, name), policy, purpose="tests.attachment", field="attachment")
    assert refused.value.field == "attachment"
    return refused.value


def _nothing_kept(files_dir) -> None:
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    assert stored_objects(files_dir) == []
    assert events("file.uploaded") == []


@pytest.mark.parametrize(
    ("data", "name", "content_type", "extra"),
    [
        (samples.pdf(pages=3), "Lageplan Hauptstraße.pdf", "application/pdf", {"page_count": 3}),
        (samples.png(640, 480), "Foto.PNG", "image/png", {"width": 640, "height": 480}),
        (samples.jpeg(800, 600), "Baustelle.jpeg", "image/jpeg", {"width": 800, "height": 600}),
        (samples.jpeg(10, 10), "Skizze.jpg", "image/jpeg", {"width": 10, "height": 10}),
    ],
)
def test_real_files_of_each_type_are_stored_with_what_their_content_says(
    app, anna, files_dir, data, name, content_type, extra
):
    stored = store_upload(actor(anna), samples.upload(data, name, "text/plain"), ANY, purpose="tests.attachment")

    assert stored.content_type == content_type  # the browser's claim (text/plain) counts for nothing
    assert stored.size_bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.filename == name.replace(".PNG", ".png")
    assert stored.owner_user_id == anna.id and stored.uploaded_by_id == anna.id
    for column, value in extra.items():
        assert getattr(stored, column) == value
    with get_storage().open(stored.storage_key) as stream:
        assert stream.read() == data


def test_the_stored_name_is_never_the_users_and_the_public_key_is_not_the_storage_key(app, anna, files_dir):
    stored = store_upload(
        actor(anna), samples.upload(samples.pdf(), "../../etc/Anna Muster Steuer.pdf"), ANY, purpose="tests.a"
    )

    [path] = stored_objects(files_dir)
    assert "Anna" not in str(path) and "Steuer" not in str(path) and "etc" not in str(path.relative_to(files_dir))
    assert path.relative_to(files_dir).as_posix() == stored.storage_key
    assert stored.key != stored.storage_key and len(stored.key) >= 40
    assert stored.filename == "Anna Muster Steuer.pdf"  # folder part dropped, kept for display only


def test_the_upload_is_audited_without_its_file_name(app, anna):
    stored = store_upload(actor(anna), samples.upload(samples.png(), "Privat-Name.png"), ANY, purpose="tests.a")

    [event] = events("file.uploaded", subject_user_id=anna.id)
    assert event.target_type == "stored_file" and event.target_id == str(stored.id)
    assert details(event) == {"purpose": "tests.a", "content_type": "image/png", "size": stored.size_bytes}
    assert "Privat" not in event.details


def test_control_characters_and_right_to_left_tricks_are_removed_from_the_display_name(app, anna):
    stored = store_upload(
        actor(anna), samples.upload(samples.pdf(), "Rechnung\u202efdp.exe\x00\n.pdf"), ANY, purpose="tests.a"
    )
    assert stored.filename == "Rechnungfdp.exe.pdf"


def test_a_name_without_extension_gets_the_one_that_fits_the_content(app, anna):
    stored = store_upload(actor(anna), samples.upload(samples.jpeg(), "Scan vom 3.5"), ANY, purpose="tests.a")
    assert stored.filename == "Scan vom 3.5.jpg"


def test_png_renamed_pdf_is_refused(app, anna, files_dir):
    error = _refused(anna, samples.png(), "Bauantrag.pdf")

    assert error.code == "extension_mismatch"
    assert "„.pdf“" in error.message and "PNG" in error.message
    assert "PDF, PNG oder JPEG" in error.message
    _nothing_kept(files_dir)


def test_pdf_renamed_jpg_is_refused(app, anna, files_dir):
    assert _refused(anna, samples.pdf(), "Foto.jpg").code == "extension_mismatch"
    _nothing_kept(files_dir)


def test_png_to_a_pdf_only_field_is_refused_naming_the_allowed_type(app, anna, files_dir):
    error = _refused(anna, samples.png(), "Plan.png", PDF_ONLY)

    assert error.code == "type_not_allowed"
    assert error.message == "Dieses Dateiformat wird hier nicht angenommen. Erlaubt sind: PDF."
    _nothing_kept(files_dir)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "Plan.pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "Logo.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Antrag.pdf"),
        (b"PK\x03\x04" + b"\x00" * 200, "Antrag.pdf"),
        (b"GIF89a" + b"\x00" * 200, "Bild.png"),
    ],
)
def test_disguised_files_of_other_types_are_refused(app, anna, files_dir, data, name):
    error = _refused(anna, data, name)
    assert error.code == "type_not_allowed"
    assert "Erlaubt sind: PDF, PNG oder JPEG" in error.message
    _nothing_kept(files_dir)


def test_oversized_file_is_refused_before_it_is_read_to_the_end(app, anna, files_dir):
    policy = UploadPolicy(max_bytes=100 * 1024)

    class CountingStream:
        def __init__(self, data: bytes) -> None:
            self.data, self.position = data, 0

        def read(self, size: int = -1) -> bytes:
            chunk = self.data[self.position : self.position + size]
            self.position += len(chunk)
            return chunk

    stream = CountingStream(samples.pdf() + b"%" * (5 * 1024 * 1024))
    upload = samples.upload(b"", "Gross.pdf")
    upload.stream = stream  # type: ignore[assignment]

    with pytest.raises(FileError) as refused:
        store_upload(actor(anna), upload, policy, purpose="tests.a")

    assert refused.value.code == "too_large"
    assert "höchstens 0,1 MB" in refused.value.message
    assert stream.position < 200 * 1024  # stopped soon after the limit, not after 5 MB
    _nothing_kept(files_dir)


def test_a_file_exactly_at_the_limit_is_accepted(app, anna):
    data = samples.pdf()
    policy = UploadPolicy(max_bytes=len(data))
    assert store_upload(actor(anna), samples.upload(data, "genau.pdf"), policy, purpose="tests.a").size_bytes == len(
        data
    )


def test_no_file_and_an_empty_file_are_refused(app, anna, files_dir):
    with pytest.raises(FileError) as missing:
        store_upload(actor(anna), None, ANY, purpose="tests.a", field="plan")
    assert (missing.value.field, missing.value.code) == ("plan", "required")

    with pytest.raises(FileError) as unnamed:  # what a browser sends for an empty file input
        store_upload(actor(anna), samples.upload(b"", ""), ANY, purpose="tests.a")
    assert unnamed.value.code == "required"

    assert _refused(anna, b"", "leer.pdf").code == "empty"
    _nothing_kept(files_dir)


def test_encrypted_pdf_is_refused(app, anna, files_dir):
    error = _refused(anna, samples.encrypted_pdf(), "geschuetzt.pdf")
    assert error.code == "encrypted"
    assert "passwortgeschützt" in error.message
    _nothing_kept(files_dir)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (samples.pdf(pages=2)[:-300], "abgeschnitten.pdf"),
        (b"%PDF-1.7\n" + b"kein PDF, nur der Anfang\n" * 20, "kaputt.pdf"),
        (samples.png_with_bad_checksum(), "beschaedigt.png"),
        (samples.png()[:40], "abgeschnitten.png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 30, "kaputt.jpg"),
    ],
)
def test_broken_files_are_refused_as_unreadable(app, anna, files_dir, data, name):
    error = _refused(anna, data, name)
    assert error.code == "unreadable"
    assert "beschädigt" in error.message
    _nothing_kept(files_dir)


def test_pdf_with_more_pages_than_allowed_is_refused(app, anna, files_dir):
    error = _refused(anna, samples.pdf(pages=6), "lang.pdf")

    assert error.code == "too_many_pages"
    assert error.message.startswith("Die PDF-Datei hat 6 Seiten; erlaubt sind höchstens 5.")
    _nothing_kept(files_dir)


def test_image_with_more_pixels_than_allowed_is_refused(app, anna, files_dir):
    error = _refused(anna, samples.png(1200, 1000), "gross.png")

    assert error.code == "too_many_pixels"
    assert "1.200 × 1.000 Pixel" in error.message and "höchstens 1 Megapixel" in error.message
    _nothing_kept(files_dir)


def test_policies_refuse_types_the_portal_cannot_check(app):
    with pytest.raises(ValueError, match="no content check"):
        UploadPolicy(allowed_types={"image/svg+xml"})


def test_purpose_must_name_the_service(app, anna):
    with pytest.raises(ValueError, match="purpose"):
        store_upload(actor(anna), samples.upload(samples.pdf(), "a.pdf"), ANY, purpose="Site Plan")


def test_a_refusal_reads_as_problem_json_for_api_clients(app, anna):
    error = _refused(anna, samples.png(), "Bauantrag.pdf")

    response = error.to_problem()

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "extension_mismatch"
    assert body["type"].endswith("/file-extension_mismatch")
    assert body["errors"] == {"attachment": [error.message]}


def test_an_upload_already_read_by_a_form_validator_is_read_again_from_the_start(app, anna):
    data = samples.pdf()
    upload = samples.upload(data, "gelesen.pdf")
    upload.stream.read()

    assert store_upload(actor(anna), upload, ANY, purpose="tests.a").size_bytes == len(data)
