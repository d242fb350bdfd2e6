"""The admin dashboard's stored figures (§11): written by the ``admin_dashboard`` job, read by the page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DashboardSnapshot(db.Model):
    """One row (id 1): the dashboard's aggregates as JSON, when they were computed (UTC) and how long it took (s)."""

    __tablename__ = "admin_dashboard_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
