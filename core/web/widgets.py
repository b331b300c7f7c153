"""Core dashboard widgets: my follow-ups due today or overdue, and customers by status.

Registered through core's own ``dashboard_widgets`` hookimpl (``core/plugin.py``), exactly like a plugin's.
Loaders query the request's scoped session, so counts never include records the user may not see.
"""
from __future__ import annotations

import datetime as dt

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased, joinedload

from core.authz import has
from core.i18n import _l
from core.models import Customer, FollowUp
from core.runtime import current, db
from core.ui import Widget
from core.web.display import local_timezone

DUE_ROWS = 20


def core_widgets(user) -> list[Widget]:
    widgets = []
    entities = current().entities
    followup, customer = entities.get("followup"), entities.get("customer")
    if followup is not None and has(followup.permission("view")):
        widgets.append(Widget("followups_due", _l("My follow-ups due"), "web/widgets/followups_due.html",
                              load=lambda: followups_due(user), order=10, width=7))
    if customer is not None and has(customer.permission("view")):
        widgets.append(Widget("customers_by_status", _l("Customers by status"),
                              "web/widgets/customers_by_status.html", load=customers_by_status, order=20, width=5))
    return widgets


def local_today() -> dt.date:
    return dt.datetime.now(local_timezone()).date()


def followups_due(user) -> dict:
    """The user's follow-ups whose next date is today or past, unless a later follow-up with the same
    customer already happened (that one carries the next date now)."""
    today = local_today()
    later = aliased(FollowUp)
    superseded = exists().where(later.customer_id == FollowUp.customer_id,
                                later.happened_at > FollowUp.happened_at)
    stmt = (select(FollowUp).options(joinedload(FollowUp.customer))
            .where(FollowUp.owner_id == user.id, FollowUp.next_follow_up.is_not(None),
                   FollowUp.next_follow_up <= today, ~superseded)
            .order_by(FollowUp.next_follow_up, FollowUp.id).limit(DUE_ROWS))
    rows = db().execute(stmt).unique().scalars().all()
    return {"today": today, "due_today": [r for r in rows if r.next_follow_up == today],
            "overdue": [r for r in rows if r.next_follow_up < today]}


def customers_by_status() -> dict:
    spec = current().entities["customer"]
    counts = dict(db().execute(select(Customer.status, func.count(Customer.id)).group_by(Customer.status)).all())
    field = spec.field("status")
    choices = [(value, str(label)) for value, label in (field.choices if field else [])]
    known = {value for value, _label in choices}
    rows = [(label, counts.get(value, 0), url_for("web.record_list", entity="customer", f_status=value))
            for value, label in choices]
    rows += [(value, count, None) for value, count in counts.items() if value not in known]
    return {"rows": rows, "total": sum(counts.values()),
            "chart": {"labels": [r[0] for r in rows], "values": [r[1] for r in rows]}}
