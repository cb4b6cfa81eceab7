"""Known 5xx the fuzzers find that belong to the app-wide bad-input layer (issue 11, built on the branch
hardening-input): out-of-range integers reaching the database. Each entry names its finding in
/work/helpers/fuzz-findings.md; the lead removes the entry once that layer is merged (the xfail is not strict
because the derandomized examples may stop hitting the value when the schema changes).

Keys: the schemathesis operation label ("GET /api/v1/...") or the form route's endpoint.
"""

from __future__ import annotations

API_FINDINGS: dict[str, str] = {
    "GET /api/v1/audit/events": "F1: after_seq=117292127693812924416 -> OverflowError in the query (500)",
    "GET /api/v1/appointments/locations": "F2: service=-27288341962320400513736114176 -> OverflowError (500)",
}
FORM_FINDINGS: dict[str, str] = {
    "orgs.act": "F3: organisation_id='²' -> ValueError in int() (500); huge ids -> OverflowError",
    # PostgreSQL only: text columns refuse NUL, SQLite stores it.
    "me.profile_page": "F4: NUL in a name field -> psycopg DataError on PostgreSQL (500)",
    "orgs.create": "F4: NUL in the organisation name -> psycopg DataError on PostgreSQL (500)",
    "pages.barrierefreiheit_feedback": "F4: NUL in the feedback text -> psycopg DataError on PostgreSQL (500)",
    "permits.use_type": "F4: NUL in the use type code -> psycopg DataError in the catalogue query on PostgreSQL (500)",
    "permits.exemption": "F4: NUL in a field of the permit draft -> psycopg DataError on PostgreSQL (500)",
}
