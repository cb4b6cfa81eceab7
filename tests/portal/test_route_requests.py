"""Every route, requested as four people: signed out, a citizen, a clerk of another department, and someone
holding the route's role (or a bearer token with its scope). Each answer must be the one its declared access
rule promises (issue 11: a test that sends requests, not only reads the rules), unless the table of exceptions
below says otherwise and why.

What each rule promises, before any view runs:
- signed out: public → passes; signed_in/role/staff → sign-in (302 to /anmelden for pages, 401 for the API);
  token → 401.
- citizen: role/staff → 403; token → 401 unless the route also takes a signed-in session.
- clerk of another department: a role route → 403 unless it takes "clerk"; staff routes pass.
- the right role / a token with the scope → passes.
"Passes" means the access hook let the request through: any answer but 401, 403, a redirect to the sign-in or
the two-factor set-up, and never a 5xx. Ids in URLs are 1: the first department's objects, which the clerk of
the second department must not reach either (the services answer 403 or 404).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.routing import IntegerConverter

from portal import access, declarations
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.extensions import db
from tests.builders import AuthActions, csrf_from, make_department, make_location, make_user

ALL_SERVICES = ["appointments", "payments", "participation", "dataaccess", "permits"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
LOGIN, FORBIDDEN, PASSES, UNAUTHORIZED, NOT_FOUND, BAD_REQUEST = "sign-in", "403", "passes", "401", "404", "400"
# The other department's object: refused, or not admitted to exist, or (a post without its fields) refused as
# incomplete before anything is looked up.
REFUSED = (FORBIDDEN, NOT_FOUND, BAD_REQUEST)

# Staff pages only a platform admin (or the department's admin) may use: the hook admits any staff member, the
# services refuse a clerk of another department (or any clerk).
ADMIN_PAGES = {
    "admin.department_edit": "only platform admins edit departments",
    "admin.department_staff": "the staff of department 1 is for its admins",
    "admin.department_invite": "the staff of department 1 is for its admins",
    "admin.department_grant": "the staff of department 1 is for its admins",
    "admin.locations": "the locations of department 1 are for its admins",
    "admin.location_new": "the locations of department 1 are for its admins",
    "admin.location_edit": "the locations of department 1 are for its admins",
    "admin.department_new": "only platform admins create departments",
    "admin.catalogue_new": "only platform admins extend the catalogue",
    "admin.global_staff": "only platform admins see all staff",
    "admin.global_invite": "only platform admins invite staff",
    "admin.global_grant": "only platform admins grant global roles",
}
# (endpoint, method, who) → the outcome that differs from the declared rule, and why.
EXCEPTIONS: dict[tuple[str, str, str], str | tuple[str, ...]] = {
    **{(endpoint, method, "other_clerk"): FORBIDDEN for endpoint in ADMIN_PAGES for method in METHODS},
    # Organisation 1 exists nowhere, and a person who is no owner may not change its members or invitations.
    **{
        (f"orgs.{view}", "POST", who): FORBIDDEN
        for view in ("remove_member", "transfer_ownership", "withdraw_invitation")
        for who in ("citizen", "other_clerk")
    },
    # The permit desk's case list admits any token with the scope or any session; the service then wants a permit
    # clerk, whom none of these people is (tests/permits/test_api_cases.py covers the clerk).
    **{("permits_api.list_cases", "GET", who): FORBIDDEN for who in ("citizen", "other_clerk", "right")},
}
# Routes whose rule admits several roles of which the service accepts only some: who is "the right role".
RIGHT_ROLE = {
    "participation_moderation_admin.blocks": "moderator",
    "participation_moderation_admin.lift": "moderator",
    "payments_treasury.refund_submit": "treasury",
    "dataaccess_staff.breakglass_new": "department_admin",  # opened for a department one works in
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ALL_SERVICES, "RATELIMIT_ENABLED": False}


def _url(rule: Any) -> str:
    """The rule with 1 for every number, the first department's slug, the first of a choice, else "x"."""
    url = rule.rule
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if isinstance(converter, IntegerConverter):  # portal.inputs bounds every <int:>
            value = "1"
        elif kind == "AnyConverter":
            value = re.match(r"\(\?:([^|)]+)", converter.regex).group(1)
        elif name == "slug":
            value = "buergeramt"
        else:
            value = "x"
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


def _right_role(endpoint: str, roles: frozenset[str], app: Any) -> str:
    """Who holds the route's role: RIGHT_ROLE if named there, else a department role (department_admin first),
    else a global role other than platform_admin, else platform_admin."""
    if endpoint in RIGHT_ROLE:
        return RIGHT_ROLE[endpoint]
    kinds = declarations.roles(app)
    return min(
        roles,
        key=lambda r: (r != "department_admin", kinds[r].kind != "department", r == "platform_admin", r),
    )


def outcome(response: Any, client: Any) -> str:
    """What the person met: the sign-in, 401, 403, 404, or "passes". A redirect elsewhere (a form sent back to
    its page, a day list's default day) is followed once, and the page it leads to counts."""
    status = response.status_code
    location = response.headers.get("Location", "")
    followed = "/anmelden" not in location and "zwei-faktor/einrichten" not in location
    if status in (301, 302, 303) and location.startswith("/") and followed:
        response = client.get(location)
        status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    if status == 401:
        return UNAUTHORIZED
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status == 400:
        return BAD_REQUEST
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if "/anmelden" in location and "next=" in location:
            return LOGIN
        if "zwei-faktor/einrichten" in location:
            return "2fa-setup"
    return PASSES


def expected(rule: access.AccessRule, who: str, api: bool, url: str) -> str | tuple[str, ...]:
    denied_signed_out = UNAUTHORIZED if api else LOGIN
    if rule.kind == "public":
        return PASSES
    if rule.kind == "token":
        if who == "right":
            return PASSES
        return PASSES if rule.session and who in {"citizen", "other_clerk"} else UNAUTHORIZED
    if who == "signed_out":
        return denied_signed_out
    if rule.kind == "signed_in" or who == "right":
        return PASSES
    if who == "citizen" or (rule.kind == "role" and "clerk" not in rule.roles):
        return FORBIDDEN
    # A clerk of department 2 passes the hook; an id in the URL points at department 1's objects.
    return REFUSED if re.search(r"/\d+(/|$)", url) else PASSES


class People:
    """One signed-in test client per person, made once and signed in again should a request sign it out."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.home = make_department("buergeramt", "Bürgeramt")  # id 1: every id in the URLs points here
        make_location(self.home)
        self.other = make_department("ordnungsamt", "Ordnungsamt")
        self.clients: dict[str, Any] = {}
        self.users: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        make_user("citizen@example.org")
        self.users["other_clerk"] = make_user(
            "clerk@example.org", department=self.other, department_role="clerk", totp=True
        )

    def client(self, who: str) -> Any:
        if who not in self.clients:
            client = self.app.test_client()
            self.clients[who] = client
            self._sign_in(who)
        return self.clients[who]

    def _sign_in(self, who: str) -> None:
        client = self.clients[who]
        auth = AuthActions(client)
        if who == "citizen":
            auth.login("citizen@example.org")
        elif who != "signed_out":
            user = self.users.get(who) or self._role_user(who)
            user.totp_last_step = None  # signing in again within the same 30 s: the code may be used again
            db.session.commit()
            auth.login(user.email)
            auth.totp(user)
        client.csrf = csrf_from(client.get("/barrierefreiheit").get_data(as_text=True))

    def _role_user(self, who: str) -> Any:
        role = who.removeprefix("role:")
        kind = declarations.roles(self.app)[role].kind
        email = f"staff-{role.replace('_', '-')}@example.org"
        if kind == "global":
            user = make_user(email, roles=(role,), totp=True)
        else:
            user = make_user(email, department=self.home, department_role=role, totp=True)
        self.users[who] = user
        return user

    def still_signed_in(self, who: str) -> None:
        if who != "signed_out" and self.client(who).get("/konto/").status_code != 200:
            self._sign_in(who)

    def token(self, scope: str) -> str:
        if scope not in self.tokens:
            # A participation token acts for a person (staff only); the others are machine clients.
            person = "clerk@example.org" if scope == "participation" else None
            self.tokens[scope] = create_token(SYSTEM, f"test {scope}", [scope], user=person)[1]
        return self.tokens[scope]


def _send(client: Any, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
    headers = {**(headers or {})}
    kwargs: dict[str, Any] = {}
    if method != "GET":
        token = getattr(client, "csrf", None)
        if token:
            headers["X-CSRFToken"] = token
            kwargs["data"] = {"csrf_token": token}
        if url.startswith("/api/"):
            kwargs = {"json": {}}
    return client.open(url, method=method, headers=headers, **kwargs)


def test_every_route_answers_each_person_as_its_rule_promises(app):
    assert app.extensions["stadtportal_services"] == ALL_SERVICES
    people = People(app)
    wrong = []
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = access.rule_for(app, rule.endpoint)
        assert declared is not None, rule.endpoint
        if rule.endpoint == "static":
            continue
        url = _url(rule)
        api = url.startswith("/api/")
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            for who in ("signed_out", "citizen", "other_clerk", "right"):
                if who == "right" and declared.kind in {"public", "signed_in"}:
                    continue  # the citizen was the right person already
                headers = {}
                key = who
                if who == "right" and declared.kind == "token":
                    key = "signed_out"
                    headers["Authorization"] = f"Bearer {people.token(declared.scope or '')}"
                elif who == "right" and declared.kind == "staff":
                    key = "role:" + RIGHT_ROLE.get(rule.endpoint, "platform_admin")
                elif who == "right":
                    key = "role:" + _right_role(rule.endpoint, declared.roles, app)
                client = people.client(key)
                got = outcome(_send(client, method, url, headers), client)
                want = EXCEPTIONS.get((rule.endpoint, method, who)) or expected(declared, who, api, url)
                if want == PASSES and got in (NOT_FOUND, BAD_REQUEST):
                    got = PASSES  # admitted; the object does not exist, or the empty post is incomplete
                checked += 1
                if got not in (want if isinstance(want, tuple) else (want,)):
                    wrong.append(f"{method} {url} ({rule.endpoint}, {declared.describe()}) as {who}: {got}, not {want}")
                if method != "GET" and got == PASSES:
                    people.still_signed_in(key)
    assert checked > 400
    assert not wrong, f"{len(wrong)} answers differ from the declared rules:\n" + "\n".join(wrong)
