"""The file field for Flask-WTF forms: it carries its upload policy, so the macro can say the rules.

    class SitePlanForm(FlaskForm):
        site_plan = UploadField(_l("Lageplan"), policy=SITE_PLAN)

The content checks themselves run in the service (`store_upload`), not here: the same rules then hold for the
HTML form and for the API.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from portal.files.policy import UploadPolicy


class UploadField(FileField):
    def __init__(
        self, label: Any = None, validators: Any = None, *, policy: UploadPolicy, required: bool = True, **kwargs: Any
    ) -> None:
        if validators is None:
            validators = [FileRequired(message=_l("Bitte wählen Sie eine Datei aus."))] if required else []
        super().__init__(label, validators, **kwargs)
        self.policy = policy
