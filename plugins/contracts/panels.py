"""Cards the module adds to detail pages: "Contracts" on a customer, opportunity or project; the contract's
own "Contract" (status flow, links, expiry) and "Delivery plan" cards; the dashboard tile of contracts
expiring soon.

Every row comes through the request's scoped session: a panel never shows what the user may not see.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import g, request, url_for

from core.authz import has
from core.i18n import _l
from core.numbering import today
from core.runtime import current
from core.ui import Panel
from core.web import display
from core.web.common import may
from plugins.contracts import services
from plugins.contracts.schemas import PLAN_STATUS_CHOICES, STATUS_CHOICES

# detail-page entity -> the contract column that points at it
ANCHOR_COLUMNS = {"customer": "customer_id", "opportunity": "opportunity_id", "project": "project_id"}
EXPIRING_DAYS = 30
STATUS_STYLES = {"draft": "secondary", "active": "success", "completed": "primary", "terminated": "danger",
                 "cancelled": "dark"}
ACTION_LABELS = {"active": _l("Activate (signed)"), "completed": _l("Complete"), "terminated": _l("Terminate"),
                 "cancelled": _l("Cancel contract")}


def _statuses():
    return {value: str(label) for value, label in STATUS_CHOICES}


def related_contracts(session, entity, record) -> Panel | None:
    rows = services.contracts_of(session, **{ANCHOR_COLUMNS[entity]: record.id})
    new_args = {ANCHOR_COLUMNS[entity]: record.id}
    if entity != "customer" and getattr(record, "customer_id", None):
        new_args["customer_id"] = record.customer_id
    return Panel("contracts", _l("Contracts"), "contracts/related_panel.html", order=45, context={
        "contracts": rows, "statuses": _statuses(), "styles": STATUS_STYLES,
        "customers": display.load_titles(session, "customer", {c.customer_id for c in rows})
        if entity != "customer" else {},
        "show_customer": entity != "customer",
        "new_url": url_for("web.record_new", entity="contract", **new_args),
        "can_create": has("contracts.contract.create"),
    })


def _link(session, entity, record_id):
    """(title, url) of a linked record the user can see, else None (module off or out of scope)."""
    if record_id is None or current().entities.get(entity) is None:
        return None
    title = display.load_titles(session, entity, {record_id}).get((entity, record_id))
    if title is None:
        return None
    return title, url_for("web.record_detail", entity=entity, record_id=record_id)


def overview(session, contract) -> Panel:
    spec = current().entities["contract"]
    on = today()
    follow = services.follow_on(session, contract.id)
    days_left = (contract.ends_on - on).days if contract.ends_on else None
    return Panel("contract", _l("Contract"), "contracts/overview_panel.html", order=3, context={
        "contract": contract, "status_label": _statuses().get(contract.status, contract.status),
        "style": STATUS_STYLES.get(contract.status, "secondary"),
        "moves": [(status, str(ACTION_LABELS[status])) for status in services.allowed_statuses(contract)],
        "can_edit": _may_edit(spec, contract.id),
        "quote": _link(session, "quote", contract.quote_id),
        "previous": _link(session, "contract", contract.previous_id),
        "follow_on": (follow.number, url_for("web.record_detail", entity="contract", record_id=follow.id))
        if follow is not None else None,
        "opportunity": _link(session, "opportunity", contract.opportunity_id),
        "project": _link(session, "project", contract.project_id),
        "days_left": days_left,
        "expiring": contract.status == "active" and days_left is not None and days_left <= EXPIRING_DAYS,
        "renewal_due": contract.status == "active" and contract.renewal_on is not None
        and contract.renewal_on <= on + dt.timedelta(days=EXPIRING_DAYS),
    })


def _may_edit(spec, contract_id) -> bool:
    """``may(..., "edit")`` asked once per request for both cards of the contract page."""
    cache = g.setdefault("_contracts_may_edit", {})
    if contract_id not in cache:
        cache[contract_id] = may(spec, contract_id, "edit")
    return cache[contract_id]


def delivery_plan(session, contract) -> Panel:
    spec = current().entities["contract"]
    plans = services.plans_of(session, contract.id)
    on = today()
    # the same sum as services.planned_amount, from the rows already loaded
    planned = sum((p.amount for p in plans if p.amount is not None and p.status != "cancelled"), Decimal(0))
    can_edit = contract.status in services.OPEN_STATUSES and _may_edit(spec, contract.id)
    return Panel("delivery_plan", _l("Delivery plan"), "contracts/plan_panel.html", order=6, context={
        "contract": contract, "plans": plans, "today": on, "overdue": {p.id for p in plans if p.overdue(on)},
        "plan_statuses": dict((value, str(label)) for value, label in PLAN_STATUS_CHOICES),
        "plan_status_choices": [(value, str(label)) for value, label in PLAN_STATUS_CHOICES],
        "planned": planned, "remaining": contract.amount - planned, "can_edit": can_edit,
        "values": {}, "errors": {}, "back": request.path,
    })


def expiring_widget(session) -> dict:
    rows = services.expiring(session, EXPIRING_DAYS, limit=10)
    on = today()
    return {"rows": [(c, (c.ends_on - on).days if c.ends_on else None) for c in rows],
            "all_url": url_for("contracts.expiring", days=EXPIRING_DAYS)}
