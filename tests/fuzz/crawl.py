"""Find every HTML form the app serves: crawl its pages as each kind of person, read the forms and their fields.

The crawl starts at every GET route without parameters and at every link in the outbox (confirm and manage
links), follows links on the site, and reads each `<form method="post">`. A few multi-step journeys keep their
state in the session (the booking wizard, a permit application): their forms are submitted with the values the
form offers (the first choice of each list), so the next step's form appears, and the fuzzer replays those
steps before each example.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode, urljoin, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from tests.portal.ui.helpers import Element, parse

# Journeys whose next form only appears after this one is submitted.
WALKED = {
    "appointments.book_services",
    "appointments.book_location",
    "appointments.book_time",
    "appointments.book_details",
    "permits.start",
    "permits.use_type",
    "permits.place",
    "permits.period",
    "permits.traffic",
    "permits.applicant",
    "appointments.confirm",
}
SKIPPED_SUFFIXES = (".ics", ".csv", ".xlsx", ".pdf", ".png", ".svg", ".json", ".zip", ".geojson")
PAGES_PER_ENDPOINT = 2
MAX_PAGES = 400


@dataclass
class Field:
    name: str
    kind: str  # text, hidden, select, radio, checkbox, file, textarea, submit, ...
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    endpoint: str
    action: str
    page: str
    person: str | None
    multipart: bool
    fields: list[Field]
    # The posts (page, action, values) that lead to the page, in a journey that keeps its state in the session.
    steps: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def defaults(self) -> dict[str, str]:
        """The values a person who only accepts what is offered would send."""
        values: dict[str, str] = {}
        for f in self.fields:
            if f.kind in ("select", "radio"):
                if f.name not in values and (f.value or f.options):
                    values[f.name] = f.value or f.options[0]
            elif f.kind == "checkbox":
                if f.value:
                    values.setdefault(f.name, f.value)
            elif f.kind != "file":
                values.setdefault(f.name, f.value)
        return values

    def walk_values(self) -> dict[str, str]:
        """The defaults, with the first box ticked and plausible text where a field is empty: enough for a step
        of a journey to go on to the next."""
        values = self.defaults()
        ticked = False
        for f in self.fields:
            if f.kind == "checkbox" and not ticked and f.name not in values:
                values[f.name], ticked = f.options[0], True
            elif f.kind not in ("hidden", "submit", "file", "checkbox") and not values.get(f.name):
                if "quantity" in f.name.lower():
                    continue  # an empty quantity means one; a typed one would choose its service too
                values[f.name] = _plausible(f)
        return values


def _plausible(f: Field) -> str:
    name = f.name.lower()
    if f.kind == "email" or "email" in name:
        return "erika.fuzz@example.org"
    if f.kind == "date" or "date" in name or name.endswith(("_from", "_until", "_on")):
        return (date.today() + timedelta(days=30)).isoformat()
    if f.kind == "number" or "quantity" in name:
        return "1"
    if "phone" in name or f.kind == "tel":
        return "0351 1234567"
    return "Erika Fuzz"


def read_forms(html: str, method: str = "post") -> list[tuple[str, bool, list[Field]]]:
    found = []
    for form in parse(html).all("form"):
        if form.attrs.get("method", "get").lower() != method:
            continue
        fields: dict[str, Field] = {}
        for element in _inputs(form):
            name = element.attrs.get("name")
            if not name:
                continue
            if element.tag == "select":
                options = [o.attrs.get("value", o.text) for o in element.all("option")]
                chosen = [o.attrs.get("value", o.text) for o in element.all("option") if "selected" in o.attrs]
                fields[name] = Field(name, "select", chosen[0] if chosen else "", options)
            elif element.tag == "textarea":
                fields[name] = Field(name, "textarea", element.text)
            elif element.tag == "button":
                fields.setdefault(name, Field(name, "submit", element.attrs.get("value", "")))
            else:
                kind = element.attrs.get("type", "text").lower()
                value = element.attrs.get("value", "")
                if kind == "radio":
                    existing = fields.setdefault(name, Field(name, "radio"))
                    existing.options.append(value)
                    if "checked" in element.attrs:
                        existing.value = value
                elif kind == "checkbox":
                    existing = fields.setdefault(name, Field(name, "checkbox"))
                    existing.options.append(value or "y")
                    if "checked" in element.attrs and not existing.value:
                        existing.value = value or "y"
                else:
                    fields.setdefault(name, Field(name, kind, value))
        multipart = form.attrs.get("enctype", "") == "multipart/form-data"
        found.append((form.attrs.get("action", ""), multipart, list(fields.values())))
    return found


def _inputs(element: Element):
    for child in element.children:
        if isinstance(child, str):
            continue
        if child.tag in ("input", "select", "textarea", "button"):
            yield child
        if child.tag not in ("select", "textarea"):
            yield from _inputs(child)


def _links(html: str) -> list[str]:
    return [a.attrs["href"] for a in parse(html).all("a") if a.attrs.get("href")]


class Crawler:
    def __init__(
        self,
        app,
        make_client,
        persons: list[str | None],
        extra_starts: dict[str | None, list[str]],
        only_starts: Collection[str | None] = (),
    ):
        self.app = app
        self.make_client = make_client
        self.persons = persons
        self.extra_starts = extra_starts
        # Persons who see only their own start pages (a sign-in half done): their links lead to the public site.
        self.only_starts = only_starts
        self.adapter = app.url_map.bind("localhost")
        self.forms: dict[str, Form] = {}
        self.errors: list[str] = []

    def endpoint(self, path: str, method: str) -> tuple[str, dict] | None:
        try:
            return self.adapter.match(path, method=method)
        except RequestRedirect as redirect:
            return self.endpoint(urlsplit(redirect.new_url).path, method)
        except HTTPException:
            return None

    def starts(self) -> list[str]:
        paths = []
        for rule in self.app.url_map.iter_rules():
            if (
                "GET" in rule.methods
                and not rule.arguments
                and not rule.rule.startswith(("/api/", "/static"))
                and not rule.rule.endswith(SKIPPED_SUFFIXES)
                and rule.endpoint != "accounts.logout"
            ):
                paths.append(rule.rule)
        return sorted(paths)

    def run(self) -> dict[str, Form]:
        for person in self.persons:
            self._crawl(person)
        return self.forms

    def _crawl(self, person: str | None) -> None:
        self.walked: set[str] = set()  # each journey's step is taken once per person
        pages = self._crawl_pages(person)
        if os.environ.get("FUZZ_DEBUG"):
            print(f"crawl {person}: {pages} pages, {len(self.forms)} form routes so far", file=sys.stderr)

    def _crawl_pages(self, person: str | None) -> int:
        client = self.make_client(person)
        shallow = person in self.only_starts
        starts = self.extra_starts.get(person, []) + ([] if shallow else self.starts())
        queue: deque[tuple[str, list, bool]] = deque((p, [], False) for p in starts)
        seen: set[tuple[str, int]] = set()
        per_endpoint: dict[tuple[str, bool], int] = {}
        pages = 0
        while queue and pages < MAX_PAGES:
            path, steps, walked = queue.popleft()
            if (path, len(steps)) in seen or path.endswith(SKIPPED_SUFFIXES):
                continue
            seen.add((path, len(steps)))
            match = self.endpoint(urlsplit(path).path, "GET")
            if match is None or match[0] in ("static", "accounts.logout"):
                continue
            # A journey's pages share one budget per endpoint, however deep: each step multiplies the pages.
            key = (match[0], bool(steps))
            # A journey's pages are worth more looks: a day's times sit behind one of the calendar's links.
            cap = PAGES_PER_ENDPOINT * (4 if steps else 1)
            if per_endpoint.get(key, 0) >= cap and not walked:
                continue
            per_endpoint[key] = per_endpoint.get(key, 0) + 1
            pages += 1
            response = self._get(client, path)
            if response is not None and response.status_code in (301, 302, 303, 307, 308):
                # Follow it next: some pages are only reached so (the desk's /schalter/N/ goes to today's day).
                target = urlsplit(urljoin(path, response.headers.get("Location", "")))
                if not target.netloc or target.netloc == "localhost":
                    queue.appendleft((target.path + (f"?{target.query}" if target.query else ""), steps, walked))
                continue
            if response is None or response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            for action, multipart, fields in read_forms(html):
                self._found(client, person, path, action, multipart, fields, steps, queue)
            if shallow:
                continue
            links = []
            # A GET form (a filter, a choice before the real form) is followed as a person who accepts what it
            # offers would submit it: some POST forms appear only on the page it leads to.
            for action, _multipart, fields in read_forms(html, "get"):
                query = {k: v for k, v in Form("", "", "", None, False, fields).defaults().items() if v}
                links.append((urlsplit(urljoin(path, action or path)).path + f"?{urlencode(query)}", steps, False))
            for href in _links(html):
                parts = urlsplit(urljoin(path, href))
                if not parts.netloc or parts.netloc == "localhost":
                    links.append((parts.path + (f"?{parts.query}" if parts.query else ""), steps, False))
            # Inside a journey, go deep first: the session's state is the one this page was shown with.
            if steps:
                queue.extendleft(reversed(links))
            else:
                queue.extend(links)
        return pages

    def _get(self, client, path: str):
        try:
            return client.get(path)
        except Exception as error:  # an uncaught exception on a plain GET is a finding of its own
            self.errors.append(f"GET {path}: {error!r}")
            return None

    def _found(self, client, person, page, action, multipart, fields, steps, queue) -> None:
        # A form without an action posts to its page, query included (the consent page reads what to ask there).
        parts = urlsplit(urljoin(page, action or page))
        match = self.endpoint(parts.path, "POST")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if match is None:
            return
        endpoint = match[0]
        form = Form(endpoint, target, page, person, multipart, fields, list(steps))
        if endpoint not in self.forms:
            self.forms[endpoint] = form
        if endpoint in WALKED and endpoint not in self.walked and len(steps) < 8:
            self.walked.add(endpoint)
            data = form.walk_values()
            try:
                response = client.post(target, data=data)
            except Exception as error:
                self.errors.append(f"POST {target} {data}: {error!r}")
                return
            if response.status_code in (301, 302, 303):
                location = urlsplit(urljoin(target, response.headers["Location"]))
                next_page = location.path + (f"?{location.query}" if location.query else "")
                queue.appendleft((next_page, [*steps, (page, target, data)], True))
