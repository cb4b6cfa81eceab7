"""Core API routes: the departments and locations every service refers to."""

from __future__ import annotations

import marshmallow as ma

from portal import access
from portal.api.blueprint import Blueprint
from portal.departments import services as departments

blp = Blueprint("core_api", __name__, url_prefix="/api/v1", description="Departments and locations")


class LocationSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    street = ma.fields.String()
    postcode = ma.fields.String()
    city = ma.fields.String()
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)


class DepartmentSchema(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()
    locations = ma.fields.List(ma.fields.Nested(LocationSchema))


@blp.route("/departments")
@blp.response(200, DepartmentSchema(many=True))
@access.public
def list_departments():
    """The city's departments (Ämter) with their public locations."""
    return departments.list_departments()
