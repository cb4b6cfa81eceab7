"""What can go wrong with an upload, in words a form shows next to the file field and an API client reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Response
    from flask_wtf import FlaskForm


@dataclass
class FileError(Exception):
    """A refused upload: shown next to `field` (web) or as a 422 problem (API).

    Codes: required, empty, too_large, type_not_allowed, extension_mismatch, unreadable, encrypted,
    too_many_pages, too_many_pixels, storage_unavailable.
    """

    field: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def show_on(self, form: FlaskForm) -> None:
        """Put the message next to the form's field of that name (or the first file field's name given)."""
        from flask import flash

        form_field = getattr(form, self.field, None)
        if form_field is not None:
            form_field.errors = [*form_field.errors, self.message]
        else:
            flash(self.message, "danger")

    def to_problem(self) -> Response:
        """RFC 9457 problem JSON; 503 when storage failed (not the client's fault), otherwise 422."""
        from portal.errors import problem

        status = 503 if self.code == "storage_unavailable" else 422
        return problem(
            status, self.message, type_=f"file-{self.code}", errors={self.field: [self.message]}, code=self.code
        )


class FileNotFound(Exception):  # noqa: N818 - reads better at the call site
    """Unknown, erased, or not yours: deliberately the same answer for all three."""
