"""Audit actions of stored files, and how a citizen reads them in their own log.

File names never go into the trail: it is append-only and cannot forget, while a name may be personal data.
"""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare("file.uploaded", ["purpose", "content_type", "size"], "A file was uploaded and stored")
declare("file.downloaded", ["purpose"], "Someone other than its owner opened a stored file")
declare("file.deleted", ["purpose"], "A stored file was deleted")
declare("file.erased", ["count"], "A person's stored files were erased (GDPR)")

describe_action("file.uploaded", _l("Datei hochgeladen"))
describe_action("file.downloaded", _l("Ihre Datei wurde von der Verwaltung geöffnet"))
describe_action("file.deleted", _l("Datei gelöscht"))
describe_action("file.erased", _l("Ihre hochgeladenen Dateien wurden gelöscht"))
