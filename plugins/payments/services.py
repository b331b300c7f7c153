"""Business rules of payments: plans per contract/order, payments against plans (the 回款 action), over-payment,
pre-receipts and their application, and the figures of the receivables and ageing pages.

Every function takes the caller's session, so the data scope applies to what it reads: a contract, order, plan
or pre-receipt the caller cannot see is "not found" at the field, exactly like a missing one. Writes never
commit (the view or the API commits once: one operation, one transaction); stored totals are kept by
``plugins.payments.totals``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import case, func, inspect as sa_inspect, select

from core import audit, services as core_services, signals as core_signals
from core.i18n import _l
from core.models import Customer
from core.money import format_money, quantize
from core.scope import current_scope, get_scoped, system_scope
from plugins.contracts.models import Contract
from plugins.orders.models import Order
from plugins.payments.models import Payment, PaymentPlan, Prereceipt, PrereceiptApplication, plan_status
from plugins.payments.signals import payment_received

ZERO = Decimal("0.00")


def _error(field, message):
    """A refusal at ``field`` in the user's language (``message`` is a lazy string)."""
    return ValidationError({field: [str(message)]})


def _money_text(amount, currency):
    return format_money(amount, currency)


def _previous(record, name):
    """The value ``name`` had before this edit (None for a new record)."""
    history = sa_inspect(record).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


def _changed(record, name) -> bool:
    return record.id is not None and sa_inspect(record).attrs[name].history.has_changes()


def _exact(amount: Decimal, currency: str, field="amount") -> Decimal:
    """``amount`` must already be a whole number of the currency's minor units (no silent rounding)."""
    rounded = quantize(amount, currency)
    if rounded != amount:
        raise _error(field, _l("Too many decimal places for %(currency)s.", currency=currency))
    return rounded


def _lock(session, model, record_id):
    """The visible row, read again and locked until commit (two payments on one plan are serialised)."""
    return session.execute(select(model).where(model.id == record_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()


def _copy_owner(record, parent):
    record.owner_id, record.department_id = parent.owner_id, parent.department_id


def _check_copies(record, customer_id, currency):
    """Customer and currency come from the parent record; a different value given is an error at the field."""
    if record.customer_id not in (None, customer_id):
        raise _error("customer_id", _l("The customer must be the one of the contract, order or plan."))
    if record.currency not in (None, currency):
        raise _error("currency", _l("The currency must be the one of the contract, order or plan "
                                    "(%(currency)s).", currency=currency))
    record.customer_id, record.currency = customer_id, currency


# ------------------------------------------------------------------ plans

PARENTS = {"contract": (Contract, "contract_id", "amount"), "order": (Order, "order_id", "total")}


def plan_parent(session, plan):
    """The plan's visible contract or order (None when out of scope)."""
    model = Contract if plan.contract_id else Order
    return get_scoped(session, model, plan.contract_id or plan.order_id)


def parent_total(parent) -> Decimal:
    return parent.amount if isinstance(parent, Contract) else parent.total


def planned_total(session, field: str, parent_id: int, exclude_id=None) -> Decimal:
    """Sum of the live plans of a contract/order, including plans the caller cannot see (the limit is the
    parent's amount, whoever planned the rest)."""
    column = getattr(PaymentPlan, field)
    stmt = select(func.coalesce(func.sum(PaymentPlan.amount), 0)).where(column == parent_id)
    if exclude_id is not None:
        stmt = stmt.where(PaymentPlan.id != exclude_id)
    with system_scope(session, "payments: planned total"):
        return Decimal(session.execute(stmt).scalar_one())


def plan_on_save(session, record: PaymentPlan, data: dict) -> None:
    """EntitySpec.on_save of payment plans (form, API, import): one parent, copies, limits, status."""
    with session.no_autoflush:
        if _changed(record, "contract_id") or _changed(record, "order_id"):
            raise _error("contract_id", _l("The contract or order of a plan cannot be changed."))
        if bool(record.contract_id) == bool(record.order_id):
            raise _error("contract_id", _l("Choose either a contract or an order (exactly one)."))
        kind = "contract" if record.contract_id else "order"
        model, field, _total = PARENTS[kind]
        parent = _lock(session, model, getattr(record, field))
        if parent is None:
            raise _error(field, _l("Not found."))
        if parent.status == "cancelled":
            raise _error(field, _l("Payments cannot be planned on a cancelled contract or order."))
        _check_copies(record, parent.customer_id, parent.currency)
        _copy_owner(record, parent)
        amount = _exact(record.amount, record.currency)
        received = record.received_amount or ZERO
        if amount < received:
            raise _error("amount", _l("Already received %(received)s: the amount cannot be less.",
                                      received=_money_text(received, record.currency)))
        others = planned_total(session, field, parent.id, exclude_id=record.id)
        limit = parent_total(parent)
        if others + amount > limit:
            raise _error("amount", _l("The plans would total %(planned)s, more than the %(total)s of the "
                                      "contract or order (still unplanned: %(free)s).",
                                      planned=_money_text(others + amount, record.currency),
                                      total=_money_text(limit, record.currency),
                                      free=_money_text(max(limit - others, ZERO), record.currency)))
        if record.instalment is None:
            record.instalment = next_instalment(session, field, parent.id)
        record.received_amount = received
        record.status = plan_status(amount, received)


def next_instalment(session, field, parent_id) -> int:
    column = getattr(PaymentPlan, field)
    with system_scope(session, "payments: next instalment"):
        last = session.execute(select(func.max(PaymentPlan.instalment)).where(column == parent_id)
                               .execution_options(include_deleted=True)).scalar()
    return (last or 0) + 1


def plans_of(session, *, contract_id=None, order_id=None) -> list[PaymentPlan]:
    """Visible plans of one contract or order, in instalment order."""
    column = PaymentPlan.contract_id if contract_id is not None else PaymentPlan.order_id
    return list(session.execute(select(PaymentPlan).where(column == (contract_id or order_id))
                                .order_by(PaymentPlan.instalment, PaymentPlan.due_on, PaymentPlan.id)).scalars())


def payments_of_plans(session, plan_ids) -> dict[int, list[Payment]]:
    if not plan_ids:
        return {}
    rows = session.execute(select(Payment).where(Payment.plan_id.in_(list(plan_ids)))
                           .order_by(Payment.received_on, Payment.id)).scalars()
    found: dict[int, list[Payment]] = {}
    for payment in rows:
        found.setdefault(payment.plan_id, []).append(payment)
    return found


# ------------------------------------------------------------------ payments (回款)

def payment_prefill(plan: PaymentPlan, today: dt.date) -> dict:
    """What the 回款 form starts with: the plan, its customer and currency, the remaining amount, today."""
    return {"plan_id": str(plan.id), "customer_id": str(plan.customer_id), "currency": plan.currency,
            "amount": format(plan.remaining, "f"), "received_on": today.isoformat(),
            "method": "bank_transfer"}


def payment_on_save(session, record: Payment, data: dict) -> None:
    """EntitySpec.on_save of payments: the plan decides customer, currency, owner; paying beyond what remains
    needs the explicit over-payment with a reason (flagged and audited)."""
    with session.no_autoflush:
        if _changed(record, "plan_id"):
            raise _error("plan_id", _l("A payment cannot be moved to another plan."))
        if record.prereceipt_id and (record.id is None or _changed(record, "amount")):
            raise _error("amount", _l("This payment comes from a pre-receipt and cannot be changed here."))
        if record.id is None and record.method == "prereceipt":
            raise _error("method", _l("Apply a pre-receipt from its page instead."))
        plan = _lock(session, PaymentPlan, record.plan_id) if record.plan_id else None
        if plan is None:
            raise _error("plan_id", _l("Not found."))
        _check_copies(record, plan.customer_id, plan.currency)
        record.contract_id, record.order_id = plan.contract_id, plan.order_id
        _copy_owner(record, plan)
        amount = _exact(record.amount, record.currency)
        already = _previous(record, "amount") if record.id is not None else ZERO
        remaining = plan.amount - plan.received_amount + (already or ZERO)
        excess = amount - max(remaining, ZERO)
        if excess > 0:
            _accept_overpayment(session, record, plan, excess)
        else:
            record.overpayment, record.overpayment_reason = False, None
        if record.custom is None:
            record.custom = {}
        if record.id is None:
            session.add(record)
            session.flush()  # the plan's stored total follows (totals listener); the signal needs the id
            send_payment_received(session, record)


def _accept_overpayment(session, record, plan, excess):
    if not record.overpayment:
        raise _error("amount", _l("Only %(remaining)s remains to be paid on this plan. To record more, tick "
                                  "\"over-payment\" and give a reason.",
                                  remaining=_money_text(max(plan.amount - plan.received_amount, ZERO),
                                                        plan.currency)))
    if not (record.overpayment_reason or "").strip():
        raise _error("overpayment_reason", _l("Give the reason for the over-payment."))
    audit.record(session, "payment_plan", plan.id, "update", current_scope(session).user_id,
                 {"overpayment": [None, f"+{excess} {plan.currency}"],
                  "overpayment_reason": [None, record.overpayment_reason]})


def send_payment_received(session, payment):
    core_signals.send_after_commit(
        session, payment_received, "payment", payment_id=payment.id, plan_id=payment.plan_id,
        customer_id=payment.customer_id, amount=payment.amount, currency=payment.currency,
        user_id=current_scope(session).user_id)


def record_payment(session, registry, data: dict) -> Payment:
    """Record a payment (the 回款 form): flushed, not committed."""
    return core_services.create(session, registry["payment"], data, registry, commit=False)


# ------------------------------------------------------------------ pre-receipts (预收款)

def prereceipt_on_save(session, record: Prereceipt, data: dict) -> None:
    """EntitySpec.on_save of pre-receipts: a visible customer (owner follows him), the amount never below
    what is already applied, customer and currency fixed once something is applied."""
    with session.no_autoflush:
        customer = get_scoped(session, Customer, record.customer_id) if record.customer_id else None
        if customer is None:
            raise _error("customer_id", _l("Not found."))
        applied = record.applied_amount or ZERO
        if applied > 0 and (_changed(record, "customer_id") or _changed(record, "currency")):
            raise _error("currency", _l("Part of this pre-receipt is applied: its customer and currency are fixed."))
        amount = _exact(record.amount, record.currency)
        if amount < applied:
            raise _error("amount", _l("Already applied %(applied)s: the amount cannot be less.",
                                      applied=_money_text(applied, record.currency)))
        record.applied_amount = applied
        if customer.owner_id is not None:
            _copy_owner(record, customer)
        if record.custom is None:
            record.custom = {}


def apply_prereceipt(session, registry, prereceipt_id: int, plan_id: int, amount: Decimal,
                     applied_on: dt.date, note: str | None = None) -> Payment:
    """Use (part of) a pre-receipt on a plan of the same customer and currency: a payment row with method
    "prereceipt" and an application row. Never more than the unapplied balance nor the plan's remaining
    amount. Flushed, not committed."""
    core_services.require(session, "payments.payment.create")
    prereceipt = core_services.get(session, registry["prereceipt"], prereceipt_id, action="edit")
    prereceipt = _lock(session, Prereceipt, prereceipt.id)
    plan = _lock(session, PaymentPlan, plan_id)
    if plan is None:
        raise _error("plan_id", _l("Not found."))
    if plan.customer_id != prereceipt.customer_id or plan.currency != prereceipt.currency:
        raise _error("plan_id", _l("Choose a plan of the same customer and currency."))
    amount = _exact(amount, prereceipt.currency)
    if amount > prereceipt.balance:
        raise _error("amount", _l("Only %(balance)s of this pre-receipt is not applied yet.",
                                  balance=_money_text(prereceipt.balance, prereceipt.currency)))
    if amount > plan.remaining:
        raise _error("amount", _l("Only %(remaining)s remains to be paid on this plan.",
                                  remaining=_money_text(plan.remaining, plan.currency)))
    user_id = current_scope(session).user_id
    payment = Payment(plan_id=plan.id, contract_id=plan.contract_id, order_id=plan.order_id,
                      customer_id=plan.customer_id, currency=plan.currency, amount=amount, received_on=applied_on,
                      method="prereceipt", prereceipt_id=prereceipt.id, reference=prereceipt.reference,
                      note=note, overpayment=False, custom={})
    _copy_owner(payment, plan)
    session.add(payment)
    session.flush()
    session.add(PrereceiptApplication(prereceipt_id=prereceipt.id, plan_id=plan.id, payment_id=payment.id,
                                      amount=amount, applied_on=applied_on, applied_by_id=user_id, note=note))
    audit.record(session, "payment", payment.id, "create", user_id,
                 {"plan_id": [None, plan.id], "amount": [None, amount], "method": [None, "prereceipt"],
                  "prereceipt_id": [None, prereceipt.id]})
    audit.record(session, "prereceipt", prereceipt.id, "update", user_id,
                 {"applied_amount": [prereceipt.applied_amount - amount, prereceipt.applied_amount]})
    session.flush()
    send_payment_received(session, payment)
    return payment


def open_plans_for(session, prereceipt: Prereceipt) -> list[PaymentPlan]:
    """Visible plans a pre-receipt may pay: same customer and currency, something still to pay."""
    return list(session.execute(
        select(PaymentPlan).where(PaymentPlan.customer_id == prereceipt.customer_id,
                                  PaymentPlan.currency == prereceipt.currency,
                                  PaymentPlan.status != "paid")
        .order_by(PaymentPlan.due_on, PaymentPlan.id).limit(200)).scalars())


def applications_of(session, prereceipt_id: int) -> list[PrereceiptApplication]:
    """Applications of a pre-receipt the caller has loaded through his scope."""
    return list(session.execute(select(PrereceiptApplication).where(
        PrereceiptApplication.prereceipt_id == prereceipt_id).order_by(PrereceiptApplication.id)).scalars())


def unapplied_by_currency(session, customer_id: int) -> dict[str, Decimal]:
    rows = session.execute(select(Prereceipt.currency, func.sum(Prereceipt.amount - Prereceipt.applied_amount))
                           .where(Prereceipt.customer_id == customer_id).group_by(Prereceipt.currency)).all()
    return {currency: Decimal(total) for currency, total in rows if total}


# ------------------------------------------------------------------ figures

def paid_amounts_of_orders(session, order_ids) -> dict[int, Decimal]:
    """Received per order (hook ``orders_paid_amounts``): one GROUP BY over the visible payments."""
    ids = [i for i in order_ids or () if i is not None]
    if not ids:
        return {}
    rows = session.execute(select(Payment.order_id, func.sum(Payment.amount)).where(Payment.order_id.in_(ids))
                           .group_by(Payment.order_id)).all()
    return {order_id: Decimal(total) for order_id, total in rows}


def receivables(session, customer_id=None) -> list[dict]:
    """Per visible customer and currency: due (sum of plans), received (sum of their payments), outstanding
    (what remains on plans not fully paid), overdue (the part of it past its due date)."""
    today = dt.date.today()
    remaining = case((PaymentPlan.received_amount < PaymentPlan.amount,
                      PaymentPlan.amount - PaymentPlan.received_amount), else_=0)
    overdue = case((PaymentPlan.due_on < today, remaining), else_=0)
    stmt = (select(PaymentPlan.customer_id, PaymentPlan.currency, func.sum(PaymentPlan.amount),
                   func.sum(PaymentPlan.received_amount), func.sum(remaining), func.sum(overdue))
            .group_by(PaymentPlan.customer_id, PaymentPlan.currency)
            .order_by(PaymentPlan.customer_id, PaymentPlan.currency))
    if customer_id is not None:
        stmt = stmt.where(PaymentPlan.customer_id == customer_id)
    rows = session.execute(stmt).all()
    names = customer_names(session, {row[0] for row in rows})
    return [{"customer_id": cid, "customer": names.get(cid), "currency": currency, "due": Decimal(due),
             "received": Decimal(received), "outstanding": Decimal(left), "overdue": Decimal(late)}
            for cid, currency, due, received, left, late in rows]


def customer_names(session, ids) -> dict[int, str]:
    """Names of the customers the caller may see (others stay unnamed)."""
    if not ids:
        return {}
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(list(ids)))).all())


BUCKETS = ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = {"not_due": _l("Not yet due"), "d0_30": _l("0–30 days"), "d31_60": _l("31–60 days"),
                 "d61_90": _l("61–90 days"), "d90_plus": _l("Over 90 days")}


def ageing(session, today: dt.date) -> dict:
    """Outstanding plan amounts by days past due (not yet due, 0–30, 31–60, 61–90, 90+) per visible customer
    and currency, with totals per currency. Due today = 0 days past due."""
    remaining = PaymentPlan.amount - PaymentPlan.received_amount
    bucket = case(
        (PaymentPlan.due_on > today, "not_due"),
        (PaymentPlan.due_on >= today - dt.timedelta(days=30), "d0_30"),
        (PaymentPlan.due_on >= today - dt.timedelta(days=60), "d31_60"),
        (PaymentPlan.due_on >= today - dt.timedelta(days=90), "d61_90"),
        else_="d90_plus")
    rows = session.execute(
        select(PaymentPlan.customer_id, PaymentPlan.currency, bucket.label("bucket"), func.sum(remaining))
        .where(PaymentPlan.received_amount < PaymentPlan.amount)
        .group_by(PaymentPlan.customer_id, PaymentPlan.currency, bucket)).all()
    names = customer_names(session, {row[0] for row in rows})
    by_customer: dict[tuple, dict] = {}
    totals: dict[str, dict] = {}
    for customer_id, currency, key, amount in rows:
        line = by_customer.setdefault((customer_id, currency), {
            "customer_id": customer_id, "customer": names.get(customer_id), "currency": currency,
            **{b: ZERO for b in BUCKETS}, "total": ZERO})
        total = totals.setdefault(currency, {**{b: ZERO for b in BUCKETS}, "total": ZERO})
        amount = Decimal(amount)
        for target in (line, total):
            target[key] += amount
            target["total"] += amount
    lines = sorted(by_customer.values(), key=lambda r: (r["currency"], -r["total"], r["customer_id"]))
    return {"rows": lines, "totals": dict(sorted(totals.items())), "today": today}


# ------------------------------------------------------------------ merging duplicate customers

def relink_customer(session, survivor_id: int, merged_ids) -> None:
    """Plans, payments and pre-receipts of merged customers follow the survivor (hook ``merge_records``;
    ``session`` is under the merge's system scope), deleted rows included."""
    from sqlalchemy import update
    for model in (PaymentPlan, Payment, Prereceipt):
        session.execute(update(model).where(model.customer_id.in_(list(merged_ids))).values(
            customer_id=survivor_id, version=model.version + 1).execution_options(
            synchronize_session=False, include_deleted=True))


def prereceipts_of(session, customer_id: int, limit: int = 50) -> list[Prereceipt]:
    """Visible pre-receipts of a customer, newest first."""
    return list(session.execute(select(Prereceipt).where(Prereceipt.customer_id == customer_id)
                                .order_by(Prereceipt.received_on.desc(), Prereceipt.id.desc()).limit(limit)).scalars())


# ------------------------------------------------------------------ deletes that would orphan received money

def delete_blockers(session, entity, record) -> list:
    """Why ``record`` may not go to the recycle bin: received money would then count against nothing.

    An existence check across the whole table (system scope: a payment the user may not see still counts),
    answering with a message that names no other record."""
    if entity == "payment_plan":
        stmt, message = (select(Payment.id).where(Payment.plan_id == record.id),
                         _l("This payment plan has payments: delete those payments first."))
    elif entity == "prereceipt":
        stmt, message = (select(Payment.id).where(Payment.prereceipt_id == record.id),
                         _l("This pre-receipt has been applied to payment plans: delete those payments first."))
    elif entity == "contract":
        stmt, message = (select(PaymentPlan.id).where(PaymentPlan.contract_id == record.id),
                         _l("This contract has payment plans: delete them first."))
    elif entity == "order":
        stmt, message = (select(PaymentPlan.id).where(PaymentPlan.order_id == record.id),
                         _l("This order has payment plans: delete them first."))
    else:
        return []
    with system_scope(session, f"payments: does {entity} {record.id} still carry money?"):
        found = session.execute(stmt.limit(1)).first()
    return [message] if found is not None else []
