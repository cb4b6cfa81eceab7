"""Clerks' calendar subscriptions at /termine/kalender: list, create, revoke, and the feed itself."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields import SelectChoice

from appointments.admin_forms import FeedForm
from appointments.services import feeds
from portal import access
from portal.actors import current_actor
from portal.departments.models import Location
from portal.timeutil import to_berlin

bp = Blueprint("appointments_feed", __name__, url_prefix="/termine/kalender")


def _choices(locations: list[Location]) -> list[SelectChoice]:
    # wtforms types SelectChoice.value as str; coerce=int turns the submitted value back into the id.
    return [SelectChoice(location.id, location.name) for location in locations]  # type: ignore[arg-type]


def _page(form: FeedForm, new_feed_url: str | None = None, status: int = 200):
    actor = current_actor()
    locations = feeds.feed_locations(actor)
    form.location_id.choices = _choices(locations)
    return (
        render_template(
            "appointments/feed/index.html",
            form=form,
            feeds=feeds.my_feeds(actor),
            locations=locations,
            new_feed_url=new_feed_url,
            to_berlin=to_berlin,
        ),
        status,
    )


@bp.get("/")
@access.roles(*feeds.FEED_ROLES, "platform_admin")
def index():
    return _page(FeedForm())


@bp.post("/")
@access.roles(*feeds.FEED_ROLES, "platform_admin")
def create():
    form = FeedForm()
    form.location_id.choices = [
        SelectChoice(location.id, location.name) for location in feeds.feed_locations(current_actor())
    ]
    if not form.validate_on_submit():
        return _page(form, status=422)
    new = feeds.create_feed(current_actor(), form.location_id.data, show_names=bool(form.show_names.data))
    # Rendered, not redirected: the token exists only now and must not travel through the session cookie.
    url = url_for("appointments_feed.feed", token=new.token, _external=True)
    return _page(FeedForm(formdata=None), new_feed_url=url, status=201)


@bp.post("/<int:feed_id>/widerrufen")
@access.roles(*feeds.FEED_ROLES, "platform_admin")
def revoke(feed_id: int):
    feeds.revoke_feed(current_actor(), feed_id)
    flash(_("Das Kalender-Abonnement wurde widerrufen. Die Adresse funktioniert nicht mehr."), "success")
    return redirect(url_for("appointments_feed.index"))


@bp.get("/<token>.ics")
@access.public
def feed(token: str):
    """Authorised by the secret token in the path; calendar clients cannot sign in."""
    response = Response(feeds.feed_ics(token), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="termine.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
