"""Cards the module adds to detail pages: payment plans on a contract or order (with the 回款 action), the
payments of a plan, the application form of a pre-receipt, receivables on a customer.

Every row comes through the request's scoped session: a panel never shows what the user may not see.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import request, url_for
from sqlalchemy import select

from core.authz import has
from core.i18n import _l
from core.runtime import current, db
from core.scope import current_scope
from core.ui import Panel
from core.web.common import detail_url
from plugins.payments import services
from plugins.payments.models import PaymentPlan
from plugins.payments.schemas import ALL_METHOD_CHOICES, PLAN_STATUS_CHOICES

STATUS_LABELS = dict(PLAN_STATUS_CHOICES)
STATUS_STYLES = {"unpaid": "text-bg-secondary", "partial": "text-bg-warning", "paid": "text-bg-success"}


def panels_for(entity, record) -> list[Panel]:
    if entity in ("contract", "order") and has("payments.plan.view"):
        return [plans_panel(entity, record)]
    if entity == "payment_plan":
        return [plan_payments_panel(record)]
    if entity == "prereceipt":
        return [prereceipt_panel(record)]
    if entity == "customer" and has("payments.plan.view"):
        return [customer_panel(record)]
    return []


def _spec(name):
    return current().entities[name]


def editable_plan_ids(session, ids) -> set[int]:
    """Which plans the caller may edit: one query for the whole panel (same criteria as services.get)."""
    spec = _spec("payment_plan")
    scope = current_scope(session)
    if not ids or not scope.has(spec.permission("edit")):
        return set()
    stmt = select(PaymentPlan.id).where(PaymentPlan.id.in_(list(ids)))
    criteria = scope.criteria(spec, "edit")
    if criteria is not None:
        stmt = stmt.where(criteria)
    return set(session.execute(stmt).scalars())


def _common():
    return {"status_labels": {k: str(v) for k, v in STATUS_LABELS.items()}, "status_styles": STATUS_STYLES,
            "method_labels": {k: str(v) for k, v in ALL_METHOD_CHOICES},
            "can_pay": has("payments.payment.create"), "back": request.path}


def plans_panel(entity, parent) -> Panel:
    """Plans of a contract or order: planned against the parent's amount, received, the 回款 action."""
    session = db()
    field = f"{entity}_id"
    plans = services.plans_of(session, **{field: parent.id})
    ids = [plan.id for plan in plans]
    total = services.parent_total(parent)
    planned = services.planned_total(session, field, parent.id)
    back = detail_url(_spec(entity), parent.id) + "#payment_plans"
    return Panel("payment_plans", _l("Payment plans"), "payments/plans_panel.html", order=45, context={
        **_common(), "plans": plans, "payments": services.payments_of_plans(session, ids),
        "editable": editable_plan_ids(session, ids), "currency": parent.currency, "total": total,
        "planned": planned, "unplanned": max(total - planned, Decimal("0.00")),
        "received": sum((p.received_amount for p in plans), Decimal("0.00")),
        "add_url": url_for("web.record_new", entity="payment_plan", **{field: parent.id}, next=back)
        if has("payments.plan.create") and parent.status != "cancelled" else None,
        "back": back,
    })


def plan_payments_panel(plan) -> Panel:
    session = db()
    return Panel("plan_payments", _l("Payments"), "payments/plan_payments_panel.html", order=5, context={
        **_common(), "plan": plan, "rows": services.payments_of_plans(session, [plan.id]).get(plan.id, []),
        "parent_url": url_for("web.record_detail", entity=plan.parent_entity, record_id=plan.parent_id)
        if current().entities.get(plan.parent_entity) else None,
    })


def prereceipt_panel(prereceipt) -> Panel:
    session = db()
    can_apply = has("payments.payment.create") and prereceipt.balance > 0
    plans = services.open_plans_for(session, prereceipt) if can_apply else []
    return Panel("apply", _l("Applications to payment plans"), "payments/prereceipt_panel.html", order=5, context={
        **_common(), "prereceipt": prereceipt, "applications": services.applications_of(session, prereceipt.id),
        "plans": plans, "can_apply": can_apply and bool(plans),
        "apply_url": url_for("payments.apply", prereceipt_id=prereceipt.id), "today": dt.date.today().isoformat(),
        "values": {}, "errors": {},
    })


def customer_panel(customer) -> Panel:
    session = db()
    prereceipts = []
    if has("payments.prereceipt.view"):
        prereceipts = services.prereceipts_of(session, customer.id)
    return Panel("receivables", _l("Receivables"), "payments/customer_panel.html", order=46, context={
        **_common(), "rows": services.receivables(session, customer_id=customer.id), "prereceipts": prereceipts,
        "unapplied": services.unapplied_by_currency(session, customer.id) if prereceipts else {},
        "new_prereceipt_url": url_for("web.record_new", entity="prereceipt", customer_id=customer.id)
        if has("payments.prereceipt.create") else None,
        "ageing_url": url_for("payments.ageing") if has("payments.report.view") else None,
    })
