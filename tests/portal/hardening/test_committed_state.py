"""After a commit the request keeps what it wrote in memory (finding 6), but a locking read sees the row as the
database holds it now: the lock guards the current state, never one remembered from an earlier transaction."""

from __future__ import annotations

import sqlalchemy as sa

from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction
from tests.builders import make_department


def _renamed_behind_the_session(department_id: int, name: str) -> None:
    """Another writer changes the row (Core, so the session's object is not told)."""
    with transaction() as session:
        statement = sa.update(Department).where(Department.id == department_id).values(name=name)
        session.execute(statement.execution_options(synchronize_session=False))


def test_committed_values_stay_readable_without_a_reload(app):
    with app.app_context():
        department = make_department("kasse", "Stadtkasse")
        with transaction():
            department.name = "Kasse der Stadt"
        _renamed_behind_the_session(department.id, "Anderswo")
        assert department.name == "Kasse der Stadt"  # kept from the commit: no statement needed to read it


def test_a_locking_read_returns_the_row_as_it_is_now(app):
    with app.app_context():
        department = make_department("kasse", "Stadtkasse")
        with transaction():
            department.name = "Kasse der Stadt"
        _renamed_behind_the_session(department.id, "Anderswo")
        with transaction() as session:
            locked = session.scalars(sa.select(Department).where(Department.id == department.id).with_for_update())
            assert locked.one() is department and department.name == "Anderswo"
        unlocked = db.session.scalars(sa.select(Department).where(Department.id == department.id)).one()
        assert unlocked.name == "Anderswo"
