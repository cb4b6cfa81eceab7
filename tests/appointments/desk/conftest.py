from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.accounts.models import User
from portal.departments.models import CatalogueService, Location
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.builders import make_department, make_user


@dataclass
class Desk:
    location: Location
    service: CatalogueService
    clerk: User
    admin: User


@pytest.fixture
def desk(app) -> Desk:
    department = make_department()
    location = make_bookable_location(department=department, counters=2)
    service = make_catalogue_service(department)
    offer(location, service, minutes=15)
    clerk = make_user("clerk@stadt.example", department=department, department_role="clerk", totp=True)
    admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
    return Desk(location, service, clerk, admin)


@pytest.fixture
def sign_in(auth):
    def sign_in(user: User) -> None:
        auth.login(user.email)
        response = auth.totp(user)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]

    return sign_in
