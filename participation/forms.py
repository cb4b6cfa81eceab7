"""Forms of the citizens' participation pages: the list's filters, a proposal, a comment and its edit.

They check the shape of the input so that every missing field is named at once; the services check everything
again (the same rules hold for the API). Field names follow ParticipationError.field, so a service's error lands
next to the field it concerns (`show_error`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from participation.errors import ParticipationError
from participation.models import COMMENT_BODY_MAX, IMAGE_ALT_MAX, PROPOSAL_BODY_MAX, TITLE_MAX
from participation.services.comments import GUEST_NAME_MAX
from participation.services.images import IMAGE_POLICY
from participation.services.pseudonyms import NAME_MAX
from portal.files.forms import UploadField
from portal.maps.fields import GeoJSONField


def _choices(pairs: list[tuple[str, Any]]) -> list[Any]:
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


STANCES = [("pro", _l("Dafür")), ("neutral", _l("Neutral")), ("contra", _l("Dagegen"))]
ORDERS = [("neueste", _l("Neueste zuerst")), ("unterstuetzt", _l("Meiste Unterstützung zuerst"))]
ANSWERED = [("", _l("Alle")), ("beantwortet", _l("Beantwortet")), ("unbeantwortet", _l("Noch nicht beantwortet"))]
# The list's sort orders in the address (German words) and in the service.
ORDER_OF = {"neueste": "newest", "unterstuetzt": "supported"}
# A service error's field → the form field it is shown next to.
FIELD_OF = {"lat": "place", "lon": "place", "address": "place"}


class _GetForm(FlaskForm):
    """Filters sent by GET: no CSRF token (they change nothing), no prefix in the address."""

    class Meta:
        csrf = False


class ListFilterForm(_GetForm):
    stadtteil = SelectField(_l("Stadtteil"), validate_choice=False, validators=[Optional()])
    thema = SelectField(_l("Thema"), validate_choice=False, validators=[Optional()])

    def offer(self, districts: list[str], topics: list[str]) -> None:
        everything = [("", _l("Alle"))]
        self.stadtteil.choices = _choices(everything + [(d, d) for d in districts])
        self.thema.choices = _choices(everything + [(t, t) for t in topics])


class ProposalFilterForm(_GetForm):
    sortierung = SelectField(_l("Sortierung"), choices=_choices(ORDERS), default="neueste", validate_choice=False)
    kategorie = SelectField(_l("Kategorie"), validate_choice=False, validators=[Optional()])

    antwort = SelectField(
        _l("Antwort der Verwaltung"),
        choices=_choices(ANSWERED),
        default="",
        validate_choice=False,
        validators=[Optional()],
    )

    def offer(self, categories: list[str]) -> None:
        self.kategorie.choices = _choices([("", _l("Alle Kategorien"))] + [(c, c) for c in categories])

    @property
    def answered(self) -> bool | None:
        return {"beantwortet": True, "unbeantwortet": False}.get(self.antwort.data or "")

    @property
    def order(self) -> str:
        return ORDER_OF.get(self.sortierung.data or "", "newest")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _required(message: Any) -> DataRequired:
    # With the _strip filter: a field of only spaces counts as empty.
    return DataRequired(message=message)


class _WithPseudonym(FlaskForm):
    # Offered only to people who have not chosen their name yet (the view leaves it out otherwise).
    pseudonym = StringField(
        _l("Ihr Name in der Beteiligung"), validators=[Optional(), Length(max=NAME_MAX)], filters=[_strip]
    )


class ProposalForm(_WithPseudonym):
    title = StringField(
        _l("Titel Ihres Vorschlags"),
        validators=[_required(_l("Geben Sie einen Titel an.")), Length(max=TITLE_MAX)],
        filters=[_strip],
    )
    body = TextAreaField(
        _l("Beschreibung"),
        validators=[_required(_l("Beschreiben Sie Ihren Vorschlag.")), Length(max=PROPOSAL_BODY_MAX)],
        filters=[_strip],
    )
    category = SelectField(_l("Kategorie"), validate_choice=False, validators=[Optional()])
    place = GeoJSONField(lazy_pgettext("proposal place", "Ort"), validators=[Optional()])
    # The image is checked by its content in the service (participation.services.images), not here.
    image = UploadField(_l("Bild"), policy=IMAGE_POLICY, required=False)
    image_alt = StringField(_l("Beschreibung des Bilds"), validators=[Length(max=IMAGE_ALT_MAX)], filters=[_strip])
    # An image taken in with an earlier submission of this form (a browser never sends a chosen file twice).
    image_key = HiddenField(filters=[_strip])
    remove_image = BooleanField(_l("Bild entfernen"))

    def offer(self, categories: list[str]) -> None:
        self.category.choices = _choices([("", _l("Bitte wählen"))] + [(c, c) for c in categories])

    @property
    def image_chosen(self) -> bool:
        return bool(getattr(self.image.data, "filename", None))

    def validate_image_alt(self, field: StringField) -> None:
        keeps_image = bool(self.image_key.data) and not self.remove_image.data
        if (self.image_chosen or keeps_image) and not field.data:
            raise ValidationError(_l("Beschreiben Sie kurz, was auf dem Bild zu sehen ist."))


class CommentForm(_WithPseudonym):
    body = TextAreaField(
        _l("Ihr Kommentar"),
        validators=[_required(_l("Schreiben Sie Ihren Kommentar.")), Length(max=COMMENT_BODY_MAX)],
        filters=[_strip],
    )
    stance = RadioField(_l("Ihre Haltung"), choices=_choices(STANCES), validate_choice=False, validators=[Optional()])
    guest_name = StringField(_l("Ihr Name"), validators=[Optional(), Length(max=GUEST_NAME_MAX)], filters=[_strip])


class ReplyForm(CommentForm):
    body = TextAreaField(
        _l("Ihre Antwort"),
        validators=[_required(_l("Schreiben Sie Ihre Antwort.")), Length(max=COMMENT_BODY_MAX)],
        filters=[_strip],
    )


class EditCommentForm(FlaskForm):
    body = TextAreaField(
        _l("Ihr Kommentar"),
        validators=[_required(_l("Schreiben Sie Ihren Kommentar.")), Length(max=COMMENT_BODY_MAX)],
        filters=[_strip],
    )
    stance = RadioField(_l("Ihre Haltung"), choices=_choices(STANCES), validate_choice=False, validators=[Optional()])


def show_error(form: FlaskForm, error: ParticipationError) -> str | None:
    """Put a service's error next to its field; return its message when no field of the form takes it (a rule's
    refusal, a lost race), for the page to show above the form."""
    field = form._fields.get(FIELD_OF.get(error.field, error.field))
    if field is None or field.name == "csrf_token":
        return str(error.message)
    field.errors = [*field.errors, error.message]
    return None
