"""Forms of council read access on the consultation managers' pages: granting it to an account by its email
address, and ending it.

They check the shape of the input; participation.services.readers checks the rules (the account exists, one
grant in force) again. Field names follow the service's `ParticipationError.field`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length

from participation.services.readers import EMAIL_MAX


class ReaderForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse des Kontos"),
        validators=[
            InputRequired(_l("Geben Sie die E-Mail-Adresse des Kontos an.")),
            Email(
                _l("Geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@example.org."),
                check_deliverability=False,
            ),
            Length(max=EMAIL_MAX),
        ],
    )
