"""Pending approvals for the people who may decide them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("approvals", __name__)
