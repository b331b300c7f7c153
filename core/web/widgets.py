"""Core dashboard widgets: my to-dos (follow-ups due today or overdue), and customers by status.

Registered through core's own ``dashboard_widgets`` hookimpl (``core/plugin.py``), exactly like a plugin's.
Loaders query the request's scoped session, so counts never include records the user may not see.
"""
from __future__ import annotations

import datetime as dt

from flask import url_for
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from core.authz import has
from core.i18n import _l
from core.models import Customer, FollowUp
from core.runtime import current, db
from core.ui import Widget
from core.web.display import load_titles, local_timezone
from core.web.panels import followup_add_url

DUE_ROWS = 20


def core_widgets(user) -> list[Widget]:
    widgets = []
    entities = current().entities
    followup, customer = entities.get("followup"), entities.get("customer")
    if followup is not None and has(followup.permission("view")):
        widgets.append(Widget("followups_due", _l("My to-dos"), "web/widgets/followups_due.html",
                              load=lambda: followups_due(user), order=10, width=7))
    if customer is not None and has(customer.permission("view")):
        widgets.append(Widget("customers_by_status", _l("Customers by status"),
                              "web/widgets/customers_by_status.html", load=customers_by_status, order=20, width=5))
    return widgets


def local_today() -> dt.date:
    return dt.datetime.now(local_timezone()).date()


def _superseded():
    """A later follow-up on the same subject already happened (it carries the next date now): the same
    lead/opportunity/project for an attached follow-up, else the same customer."""
    later = aliased(FollowUp)
    same_record = and_(FollowUp.related_entity.is_not(None), later.related_entity == FollowUp.related_entity,
                       later.related_id == FollowUp.related_id)
    same_customer = and_(FollowUp.related_entity.is_(None), later.customer_id == FollowUp.customer_id)
    return exists().where(later.happened_at > FollowUp.happened_at, or_(same_record, same_customer))


def followups_due(user) -> dict:
    """The user's own follow-ups whose next date is today or past and not superseded: what each concerns
    (the customer, or the lead/opportunity/project when the user may see it), the way to log the next
    follow-up, and a "done" button. Counts are exact (not limited to the rows shown)."""
    today = local_today()
    due = (FollowUp.owner_id == user.id, FollowUp.next_follow_up.is_not(None), FollowUp.next_follow_up <= today,
           ~_superseded())
    stmt = (select(FollowUp).options(joinedload(FollowUp.customer)).where(*due)
            .order_by(FollowUp.next_follow_up, FollowUp.id).limit(DUE_ROWS))
    rows = db().execute(stmt).unique().scalars().all()
    overdue_count, today_count = db().execute(select(
        func.coalesce(func.sum(case((FollowUp.next_follow_up < today, 1), else_=0)), 0),
        func.coalesce(func.sum(case((FollowUp.next_follow_up == today, 1), else_=0)), 0)).where(*due)).one()
    items = _todo_items(rows)
    return {"today": today, "due_today": [i for i in items if i["row"].next_follow_up == today],
            "overdue": [i for i in items if i["row"].next_follow_up < today],
            "overdue_count": int(overdue_count), "today_count": int(today_count),
            "can_edit": has("core.followup.edit"), "can_create": has("core.followup.create"),
            "back": url_for("web.dashboard")}


def _todo_items(rows) -> list[dict]:
    """Each to-do with the record it concerns; titles of related records in one scoped query per entity."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row.related_entity and row.related_id:
            wanted.setdefault(row.related_entity, set()).add(row.related_id)
    titles = {}
    for entity, ids in wanted.items():
        titles.update(load_titles(db(), entity, ids))
    entities, back = current().entities, url_for("web.dashboard")
    items = []
    for row in rows:
        item = {"row": row, "concerns": None, "concerns_url": None, "concerns_label": None}
        title = titles.get((row.related_entity, row.related_id))
        if title is not None:
            spec = entities.get(row.related_entity)
            item.update(concerns=title, concerns_label=spec.label,
                        concerns_url=url_for("web.record_detail", entity=spec.name, record_id=row.related_id))
            item["log_url"] = followup_add_url(spec.name, row.related_id, row.customer_id, back)
        elif row.customer is not None:
            item.update(concerns=row.customer.name, concerns_label=entities["customer"].label,
                        concerns_url=url_for("web.record_detail", entity="customer", record_id=row.customer.id))
            item["log_url"] = url_for("web.record_new", entity="followup", customer_id=row.customer.id, next=back)
        else:
            item["log_url"] = url_for("web.record_new", entity="followup", next=back)
        items.append(item)
    return items


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
