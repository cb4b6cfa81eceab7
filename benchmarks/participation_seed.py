"""The data of participation_bench.py: a published consultation with its proposals, supports and threaded comments,
loaded with COPY (the benchmark measures reading; writing 100,000 comments through the services would take an hour).

People, the department and the consultation with its phase are made through the services and the tests' builders;
proposals, supports, pseudonyms and comments are COPYed with the counters the services keep (published contributions
only): `proposal_count`, `comment_count` and `support_count` of the consultation, `comment_count` and `support_count`
of each proposal, `reply_count` of each comment. One proposal gets the big thread and an official answer (through
the services, so its page shows the answer and its history: the page's most expensive case).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

_WORD_TEXT = (
    "Altmarkt Bäume Schatten Radweg Fußweg Bank Brunnen Spielplatz Parkplätze Beleuchtung Haltestelle Kreuzung "
    "Ampel Markt Wochenmarkt Gehweg Blumen Wiese Sitzplätze Fahrradbügel Lieferverkehr Anwohner Kinder Senioren "
    "Barrierefreiheit Rampe Toiletten Trinkbrunnen Sommer Winter Veranstaltungen Lärm Verkehr Tempo Sicherheit "
    "Pflaster Bordstein Laterne Grünfläche Hecke Mülleimer Café Terrasse Durchgang Zufahrt Stadtbahn Bus"
)
_FILLER_TEXT = "der die das und mit für mehr weniger bitte auch gern schon nicht noch besser sehr am im zum zur"
WORDS, FILLER = _WORD_TEXT.split(), _FILLER_TEXT.split()
STANCES = ("pro", "pro", "neutral", "contra", None, None)
REPLIES = (0, 0, 0, 0, 1, 1, 2, 3, 4, 6)  # replies to a top-level comment: some have more than the 3 shown
SUB_REPLIES = (0, 0, 0, 0, 1, 1, 2, 5)
HIDDEN_SHARE = 0.01


@dataclass
class SeededConsultation:
    slug: str
    consultation_id: int
    proposals: int
    comments: int
    big_thread_id: int  # the proposal with the big thread
    big_thread_reference: str
    big_thread_title: str
    big_thread_comments: int


def sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(WORDS) if n % 3 else rng.choice(FILLER) for n in range(words)]
    return " ".join(picked).capitalize() + "."


def text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(sentence(rng, rng.randint(6, 14)) for _ in range(rng.randint(low, high)))


def people(count: int) -> dict[str, Any]:
    """In an app context: the planning office, its consultation manager, the benchmark's signed-in citizen and
    `count` further participants, all with pseudonyms. Returns their ids."""
    from participation.models import Pseudonym
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.extensions import db
    from portal.timeutil import utcnow
    from tests.builders import PASSWORD, make_department
    from tests.participation.builders import make_person

    planning = make_department("stadtplanung", "Stadtplanungsamt")
    manager = make_person("planung@stadt.example", department=planning, department_role="consultation_manager")
    viewer = make_person("bea@example.org", display_name="Bea Benchmark")
    password_hash = hash_password(PASSWORD)  # argon2 once, not once per person
    crowd = [
        User(email=f"person{n}@example.org", password_hash=password_hash, display_name=f"Person {n}")
        for n in range(count)
    ]
    db.session.add_all(crowd)
    db.session.flush()
    names = [(viewer.id, "Bea Benchmark")] + [(u.id, f"Teilnehmerin {n:05d}") for n, u in enumerate(crowd)]
    db.session.execute(
        sa.insert(Pseudonym),
        [{"user_id": i, "name": name, "name_key": name.casefold(), "created_at": utcnow()} for i, name in names],
    )
    db.session.commit()
    return {
        "department_id": planning.id,
        "manager_id": manager.id,
        "viewer": {"id": viewer.id, "email": viewer.email, "password": PASSWORD},
        "crowd": [u.id for u in crowd],
    }


def consultation(department_id: int, manager_id: int, title: str) -> tuple[int, str]:
    """Through the services: a published consultation whose proposals phase runs now (propose, comment and
    support open, so the pages show their forms and the consultation's own comment thread)."""
    from participation.services import consultations
    from participation.services import phases as phase_service
    from participation.services.consultations import ConsultationDraft
    from portal.accounts.models import User
    from portal.actors import Actor
    from portal.extensions import db
    from portal.timeutil import utcnow

    manager = Actor.for_user(db.session.get(User, manager_id))
    draft = ConsultationDraft(
        title=title,
        summary="Wie soll der Altmarkt künftig aussehen? Schlagen Sie vor, kommentieren Sie, unterstützen Sie.",
        body="<p>Die Stadt gestaltet den Altmarkt neu. <strong>Machen Sie mit.</strong></p>",
        categories=["Grün", "Verkehr", "Spielen", "Sitzen"],
        district="Altstadt",
        topic="Stadtplanung",
        contact_name="Stadtplanungsamt",
        contact_email="planung@stadt.example",
    )
    made = consultations.create_consultation(manager, department_id, draft)
    now = utcnow()
    phase_service.add_phase(
        manager, made.id, kind="proposals", title="Vorschläge", starts_at=now - timedelta(days=60),
        ends_at=now + timedelta(days=30),
    )  # fmt: skip
    consultations.publish(manager, made.id)
    return made.id, made.slug


def thread_shape(total: int, rng: random.Random) -> list[tuple[int, int | None]]:
    """A thread of `total` comments in the order they were written: (depth, index of the parent or None)."""
    nodes: list[tuple[int, int | None]] = []
    while len(nodes) < total:
        top = len(nodes)
        nodes.append((0, None))
        for _ in range(rng.choice(REPLIES)):
            if len(nodes) >= total:
                break
            reply = len(nodes)
            nodes.append((1, top))
            for _ in range(rng.choice(SUB_REPLIES)):
                if len(nodes) >= total:
                    break
                nodes.append((2, reply))
    return nodes


def fill(
    url: str, consultation_id: int, authors: list[int], viewer_id: int, proposals: int, comments: int,
    big_thread: int, reference_from: int, rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    """COPY the consultation's proposals, supports and comments with their counters; returns what was made."""
    import psycopg

    now = datetime.now().astimezone()
    dsn = url.replace("+psycopg", "")
    with psycopg.connect(dsn) as conn:
        first_proposal = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM participation_proposal").fetchone()[0]
        first_comment = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM participation_comment").fetchone()[0]
        ids = list(range(first_proposal, first_proposal + proposals))
        created = sorted(now - timedelta(days=55 * rng.random()) for _ in ids)
        big = ids[len(ids) // 2]
        # Supports: a few for most, many for some (the "most supported" order has something to sort).
        supports: list[tuple[int, int, datetime]] = []
        support_count: Counter[int] = Counter()
        for pid, when in zip(ids, created, strict=True):
            for user in rng.sample(authors, min(len(authors), int(rng.paretovariate(1.2)) - 1)):
                supports.append((pid, user, when + (now - when) * rng.random()))
                support_count[pid] += 1
        for pid in ids[-20:][::4]:  # the signed-in citizen supports some of the newest: the list marks them
            if not any(s[0] == pid and s[1] == viewer_id for s in supports):
                supports.append((pid, viewer_id, now - timedelta(hours=1)))
                support_count[pid] += 1
        # Comments: the big thread, 1 % on the consultation itself, the rest spread unevenly over the others.
        per_target: Counter[int | None] = Counter({big: big_thread, None: comments // 100})
        others = [i for i in ids if i != big]
        weights = [rng.paretovariate(1.5) for _ in others]
        per_target.update(rng.choices(others, weights, k=comments - sum(per_target.values())))
        start_of = dict(zip(ids, created, strict=True))
        written = []  # (time, target, depth, local parent, thread number, local index)
        for thread, (target, total) in enumerate(per_target.items()):
            begins = start_of.get(target, now - timedelta(days=58))  # type: ignore[arg-type]
            times = sorted(begins + (now - begins) * rng.random() for _ in range(total))
            for local, ((depth, parent), when) in enumerate(zip(thread_shape(total, rng), times, strict=True)):
                written.append((when, target, depth, parent, thread, local))
        written.sort(key=lambda w: w[0])  # the threads interleave in the table, as they would when written
        id_of = {(w[4], w[5]): first_comment + n for n, w in enumerate(written)}
        hidden = {n for n in range(len(written)) if rng.random() < HIDDEN_SHARE}
        root_of: dict[int, int] = {}
        rows = []
        # The signed-in viewer reads the threads without having written in them, as most readers: an author gets
        # her thread rendered for her (participation.cached_pages), which the cache-off runs measure.
        commenters = [a for a in authors if a != viewer_id] or authors
        for n, (when, target, depth, parent, thread, local) in enumerate(written):
            cid = id_of[(thread, local)]
            parent_id = id_of[(thread, parent)] if parent is not None else None
            root_of[cid] = root_of[parent_id] if parent_id is not None else cid
            rows.append(
                [cid, target, parent_id, root_of[cid] if depth else None, depth, rng.choice(commenters),
                 text(rng, 1, 4), rng.choice(STANCES), "hidden" if n in hidden else "published", 0, when]
            )  # fmt: skip
        reply_count: Counter[int] = Counter(r[2] for r in rows if r[2] is not None and r[8] == "published")
        comment_count: Counter[int] = Counter(r[1] for r in rows if r[1] is not None and r[8] == "published")
        with conn.cursor() as cur:
            columns = "id, consultation_id, reference, author_id, title, body, category, state, support_count, "
            columns += "comment_count, created_at, updated_at"
            with cur.copy(f"COPY participation_proposal ({columns}) FROM STDIN") as copy:
                for n, (pid, when) in enumerate(zip(ids, created, strict=True)):
                    title = sentence(rng, rng.randint(3, 8))[:-1]
                    copy.write_row(
                        (pid, consultation_id, f"VOR-2026-{reference_from + n:06d}", rng.choice(authors), title,
                         text(rng, 2, 8), rng.choice(["Grün", "Verkehr", "Spielen", "Sitzen", None]), "published",
                         support_count[pid], comment_count[pid], when, when)
                    )  # fmt: skip
            with cur.copy("COPY participation_support (proposal_id, user_id, created_at) FROM STDIN") as copy:
                for row in supports:
                    copy.write_row(row)
            columns = "id, consultation_id, proposal_id, parent_id, root_id, depth, author_id, body, stance, state, "
            columns += "reply_count, created_at"
            with cur.copy(f"COPY participation_comment ({columns}) FROM STDIN") as copy:
                for r in rows:
                    r[9] = reply_count[r[0]]
                    copy.write_row([r[0], consultation_id, *r[1:]])
            for table in ("participation_proposal", "participation_support", "participation_comment"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            cur.execute(
                "UPDATE participation_consultation SET proposal_count = %s, comment_count = %s, support_count = %s"
                " WHERE id = %s",
                (proposals, sum(comment_count.values()) + sum(1 for r in rows if r[1] is None and r[8] == "published"),
                 len(supports), consultation_id),
            )  # fmt: skip
        conn.commit()
        title, reference = conn.execute(
            "SELECT title, reference FROM participation_proposal WHERE id = %s", (big,)
        ).fetchone()
    return {"big": big, "reference": reference, "title": title, "comments": len(rows), "supports": len(supports)}


def answer(manager_id: int, proposal_id: int) -> None:
    """Through the services: the city's answer to the big thread's proposal (its page then shows the answer)."""
    from participation.services import answers
    from portal.accounts.models import User
    from portal.actors import Actor
    from portal.extensions import db

    manager = Actor.for_user(db.session.get(User, manager_id))
    answers.answer(manager, proposal_id, "under_review", "Wir prüfen den Vorschlag mit dem Tiefbauamt.")


def seed(cfg: dict[str, Any], scales: dict[str, float], base: dict[str, int], rng: random.Random) -> dict[str, Any]:
    """The people, then one consultation per scale (1.0: `base` as given; 0.1: a tenth of everything)."""
    from portal import create_app
    from portal.extensions import db

    app = create_app(cfg, env="test")
    found: dict[str, Any] = {}
    with app.app_context():
        made = people(base["people"])
        authors = [made["viewer"]["id"], *made["crowd"]]
        reference_from = 1
        for label, scale in scales.items():
            title = "Neugestaltung des Altmarkts" + ("" if scale == 1 else f" ({label})")
            consultation_id, slug = consultation(made["department_id"], made["manager_id"], title)
            filled = fill(
                cfg["SQLALCHEMY_DATABASE_URI"], consultation_id, authors, made["viewer"]["id"],
                round(base["proposals"] * scale), round(base["comments"] * scale), round(base["big_thread"] * scale),
                reference_from, rng,
            )  # fmt: skip
            reference_from += round(base["proposals"] * scale)
            db.session.expire_all()
            answer(made["manager_id"], filled["big"])
            found[label] = SeededConsultation(
                slug, consultation_id, round(base["proposals"] * scale), filled["comments"], filled["big"],
                filled["reference"], filled["title"], round(base["big_thread"] * scale),
            )  # fmt: skip
        found["viewer"] = made["viewer"]
        db.engine.dispose()
    engine = sa.create_engine(cfg["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))  # as autovacuum would have done on live tables
    engine.dispose()
    return found
