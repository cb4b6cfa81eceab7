"""Participation figures per month for the city's e-government controlling: consultations published, proposals,
comments and supports written. Anonymous counts only; the caller checks who may see them. Four statements."""

from __future__ import annotations

import sqlalchemy as sa

from participation.models import Comment, Consultation, Proposal, Support
from portal.extensions import db
from portal.reporting import Month, counts_by_month, month_of, within


def monthly_figures(months: list[Month]) -> dict[str, dict[str, float]]:
    """{month: {"consultations"|"proposals"|"comments"|"supports": count}}."""
    result: dict[str, dict[str, float]] = {}
    for name, column in (
        ("consultations", Consultation.published_at),
        ("proposals", Proposal.created_at),
        ("comments", Comment.created_at),
        ("supports", Support.created_at),
    ):
        bucket = month_of(column, months)
        rows = db.session.execute(
            sa.select(bucket, sa.literal(name), sa.func.count()).where(within(column, months)).group_by(bucket)
        )
        for month, values in counts_by_month(rows).items():
            result.setdefault(month, {}).update(values)
    return result
