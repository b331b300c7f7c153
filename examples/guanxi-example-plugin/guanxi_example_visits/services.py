"""Queries of the module. They take the caller's session, so the data scope applies to every row."""
from __future__ import annotations

from sqlalchemy import func, select, update

from guanxi_example_visits.models import OUTCOMES, SiteVisit


def visits_of_customer(session, customer_id: int, limit: int = 20) -> list[SiteVisit]:
    """The latest visits to one customer that the caller may see."""
    stmt = (select(SiteVisit).where(SiteVisit.customer_id == customer_id)
            .order_by(SiteVisit.date.desc(), SiteVisit.id.desc()).limit(limit))
    return list(session.execute(stmt).scalars())


def outcome_counts(session) -> dict[str, int]:
    """Number of visible visits per outcome (every outcome present, zero when none)."""
    stmt = select(SiteVisit.outcome, func.count(SiteVisit.id)).group_by(SiteVisit.outcome)
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update({outcome: count for outcome, count in session.execute(stmt)})
    return counts


def relink_visits(session, survivor_id: int, merged_ids: list[int]) -> None:
    """Visits of merged customers now belong to the surviving customer (recycle-bin visits too)."""
    session.execute(update(SiteVisit).where(SiteVisit.customer_id.in_(merged_ids))
                    .values(customer_id=survivor_id, version=SiteVisit.version + 1)
                    .execution_options(include_deleted=True, synchronize_session="fetch"))
