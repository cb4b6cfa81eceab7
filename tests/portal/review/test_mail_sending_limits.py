"""Forms that send a mail to the address typed in cannot be used to flood someone's mailbox."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import PASSWORD, make_user


def _mails_to(address: str) -> int:
    db.session.expire_all()
    count = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.recipient == address))
    return int(count or 0)


@pytest.mark.parametrize("path", ["/passwort-vergessen", "/email-bestaetigen/erneut-senden"])
def test_fourth_link_request_for_one_address_within_an_hour_is_refused(client, auth, path):
    make_user("victim@example.org", verified=path == "/passwort-vergessen")
    answers = [auth.post_form(path, {"email": "victim@example.org"}).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert _mails_to("victim@example.org") == 3


def test_repeated_registration_with_a_strangers_address_stops_mailing_them(client, auth):
    make_user("victim@example.org")
    form = {
        "display_name": "Mallory",
        "email": "victim@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    answers = [auth.post_form("/registrieren", form).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert _mails_to("victim@example.org") == 3


def test_other_addresses_are_not_held_up_by_one_flooded_address(client, auth):
    make_user("victim@example.org")
    make_user("other@example.org")
    for _ in range(4):
        auth.post_form("/passwort-vergessen", {"email": "victim@example.org"})

    assert auth.post_form("/passwort-vergessen", {"email": "other@example.org"}).status_code == 200
    assert _mails_to("other@example.org") == 1
