"""Forms of the citizen's pages: the once-only consent (yes with one-off or standing, or no) and revoking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

ONE_OFF = "einmalig"
STANDING = "dauerhaft"


class ConsentForm(FlaskForm):
    """ "Ja, abrufen lassen" (once, for this case, or until revoked) or "Nein, ich lade es selbst hoch"."""

    scope = RadioField(
        _l("Wie lange soll der Abruf erlaubt sein?"),
        choices=[  # type: ignore[list-item]
            SelectChoice(ONE_OFF, _l("Nur einmal, für diesen Antrag")),
            SelectChoice(STANDING, _l("Dauerhaft, bis ich widerrufe")),
        ],
        default=ONE_OFF,
    )
    yes = SubmitField(_l("Ja, abrufen lassen"))
    no = SubmitField(_l("Nein, ich lade es selbst hoch"))

    def wants_standing(self) -> bool:
        return self.scope.data == STANDING
