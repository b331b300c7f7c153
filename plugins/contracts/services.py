"""Business rules of contracts: numbers, the status flow, links, renewal, conversion of an accepted quote, and
the delivery plan (交付计划) milestones.

Every function takes the caller's session, so the data scope applies to every row it reads: a contract the
caller cannot see is "not found", exactly like a missing one, and its milestones with it. Functions that
write only flush: the view (or API) commits once, so each operation is one transaction.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import func, inspect, or_, select, update

from core import audit, services as core_services
from core.i18n import _
from core.models import Contact
from core.money import quantize
from core.numbering import next_number, today
from core.runtime import current
from core.scope import current_scope, get_scoped, system_scope
from plugins.contracts.models import Contract, DeliveryPlan

NUMBER_KEY, NUMBER_PREFIX = "contracts.contract", "HT"
# The guarded flow: where a contract may go from each status. Closed contracts stay closed.
TRANSITIONS = {
    "draft": ("active", "cancelled"),
    "active": ("completed", "terminated"),
    "completed": (),
    "terminated": (),
    "cancelled": (),
}
NEW_STATUSES = ("draft", "active")  # a contract is entered as a draft, or as already signed
OPEN_STATUSES = ("draft", "active")  # its delivery plan can still change
RENEWABLE_STATUSES = ("active", "completed")
# Fixed once the contract comes from a quote: they are the quote's (its total, in its currency).
FROM_QUOTE = ("customer_id", "currency", "amount")
# Optional modules a contract links to by plain id (no foreign key): entity name per column.
LINKED_ENTITIES = {"opportunity_id": "opportunity", "project_id": "project"}
EXPIRING_LIMIT = 200
CENTS = Decimal("0.01")


def _error(field, message):
    return ValidationError({field: [str(message)]})


def contract_spec():
    return current().entities["contract"]


def contracted_statuses() -> tuple[str, ...]:
    """Statuses whose amount counts as "contracted" in the deal chain: all but cancelled."""
    return tuple(status for status in TRANSITIONS if status != "cancelled")


# ------------------------------------------------------------------ saving (EntitySpec.on_save)

def on_save(session, record: Contract, data: dict) -> None:
    """Complete and check a contract inside ``core.services.create``/``update`` (forms, API, import alike)."""
    # No autoflush: the caller flushes once, where a concurrent change becomes StaleVersion.
    with session.no_autoflush:
        _number(session, record)
        _check_status(record)
        _check_from_quote(record)
        _check_money(record)
        _check_dates(record)
        _check_contact(session, record)
        _check_links(session, record)
        _check_plans_fit(session, record)


def _is_new(record) -> bool:
    state = inspect(record)
    return state.transient or state.pending


def _previous(record, name):
    """(changed?, old value) of a column in this save."""
    history = inspect(record).attrs[name].history
    return history.has_changes(), (history.deleted[0] if history.deleted else None)


def _number(session, record):
    if not record.number:
        record.number = next_number(session, NUMBER_KEY, NUMBER_PREFIX,
                                    taken=lambda number: _number_taken(session, number))
    elif (_is_new(record) or _previous(record, "number")[0]) and _number_taken(session, record.number, record.id):
        raise _error("number", _("This number is already used by another contract."))


def _number_taken(session, number, exclude_id=None) -> bool:
    # Numbers are unique across the company, also among contracts the caller cannot see (or deleted ones).
    stmt = select(Contract.id).where(Contract.number == number).execution_options(include_deleted=True)
    if exclude_id is not None:
        stmt = stmt.where(Contract.id != exclude_id)
    with system_scope(session, "contracts: unique number"):
        return session.execute(stmt.limit(1)).first() is not None


def _check_status(record):
    if _is_new(record):
        if record.status not in NEW_STATUSES:
            raise _error("status", _("A new contract is a draft or already active."))
    else:
        changed, old = _previous(record, "status")
        if changed and old is not None and record.status not in TRANSITIONS.get(old, ()):
            raise _error("status", _("A contract cannot go from %(old)s to %(new)s.",
                                     old=status_label(old), new=status_label(record.status)))
        if not changed and record.status not in OPEN_STATUSES:
            for name in ("amount", "currency", "customer_id"):
                if _previous(record, name)[0]:
                    raise _error(name, _("A closed contract keeps its customer, amount and currency."))
    if record.status == "active" and record.signed_on is None:
        raise _error("signed_on", _("Enter the date the contract was signed."))


def _check_from_quote(record):
    if record.quote_id is None or _is_new(record):
        return
    for name in FROM_QUOTE:
        if _previous(record, name)[0]:
            raise _error(name, _("This contract comes from a quote: its customer, currency and amount are the "
                                 "quote's."))


def _check_money(record):
    if isinstance(record.amount, (str, int)) and not isinstance(record.amount, bool):
        try:
            record.amount = Decimal(str(record.amount))
        except ArithmeticError:
            raise _error("amount", _("Not a valid number.")) from None
    if record.amount is None:
        record.amount = Decimal("0")
    if record.amount < 0:
        raise _error("amount", _("Must be at least 0."))
    if quantize(record.amount, record.currency) != record.amount:
        raise _error("amount", _("Too many decimal places for %(currency)s.", currency=record.currency))
    record.amount = record.amount.quantize(CENTS)  # as the column stores it


def _check_dates(record):
    if record.starts_on and record.ends_on and record.ends_on < record.starts_on:
        raise _error("ends_on", _("The end date is before the start date."))
    if record.renewal_on and record.ends_on and record.renewal_on > record.ends_on:
        raise _error("renewal_on", _("Decide on the renewal before the contract ends."))


def _check_contact(session, record):
    if record.contact_id is None:
        return
    row = session.execute(select(Contact.customer_id).where(Contact.id == record.contact_id)).first()
    if row is None or row.customer_id != record.customer_id:
        raise _error("contact_id", _("This contact does not belong to the customer."))


def _check_links(session, record):
    """Opportunity / project ids: visible to the caller (and of the same customer, for an opportunity)
    when their module is enabled; a new link to a switched-off module is refused."""
    for column, entity in LINKED_ENTITIES.items():
        value = getattr(record, column)
        if value is None or not (_is_new(record) or _previous(record, column)[0]):
            continue
        spec = current().entities.get(entity)
        if spec is None:
            raise _error(column, _("This module is not enabled."))
        linked = get_scoped(session, spec.model, value)
        if linked is None:
            raise _error(column, _("Not found."))
        if getattr(linked, "customer_id", record.customer_id) != record.customer_id:
            raise _error(column, _("This opportunity belongs to another customer."))


def _check_plans_fit(session, record):
    if record.id is None:
        return
    planned = planned_amount(session, record.id)
    if planned and _previous(record, "currency")[0]:
        raise _error("currency", _("The delivery plan holds amounts in %(currency)s: change them first.",
                                   currency=_previous(record, "currency")[1]))
    if planned > record.amount:
        raise _error("amount", _("The delivery plan already holds %(planned)s: the amount cannot be less.",
                                 planned=_plain_amount(planned)))


def status_label(status) -> str:
    from plugins.contracts.schemas import STATUS_CHOICES
    return str(dict(STATUS_CHOICES).get(status, status))


def _plain_amount(amount) -> str:
    return format(amount, ",f")


# ------------------------------------------------------------------ status, renewal

def get_contract(session, contract_id, action="view") -> Contract:
    """The contract if the caller may ``action`` it, else ``core.services.NotFound`` / ``Forbidden``."""
    return core_services.get(session, contract_spec(), contract_id, action=action)


def allowed_statuses(contract) -> tuple[str, ...]:
    return TRANSITIONS.get(contract.status, ())


def change_status(session, contract_id, status, version=None) -> Contract:
    """Move a contract along the flow (activating it dates the signature today if none is given);
    audited and committed by ``core.services.update``."""
    contract = get_contract(session, contract_id, action="edit")
    data = {"status": status}
    if status == "active" and contract.signed_on is None:
        data["signed_on"] = today()
    if version is not None:
        data["version"] = version
    return core_services.update(session, contract_spec(), contract.id, data, current().entities)


def follow_on(session, contract_id) -> Contract | None:
    """The contract renewing this one, if the caller can see it."""
    return session.execute(select(Contract).where(Contract.previous_id == contract_id)
                           .order_by(Contract.id).limit(1)).scalar_one_or_none()


def renew(session, contract_id) -> Contract:
    """Create the follow-on draft of an active or completed contract: same customer, contact, terms, amount
    and links, the next period of the same length. Flushes; the caller commits."""
    old = get_contract(session, contract_id, action="edit")
    if old.status not in RENEWABLE_STATUSES:
        raise _error("status", _("Only an active or completed contract can be renewed."))
    with system_scope(session, f"contracts: is {old.id} renewed already"):
        renewed = session.execute(select(Contract.id).where(Contract.previous_id == old.id)
                                  .execution_options(include_deleted=True).limit(1)).first()
    if renewed is not None:
        raise _error("status", _("This contract has already been renewed."))
    starts = old.ends_on + dt.timedelta(days=1) if old.ends_on else today()
    length = (old.ends_on - old.starts_on) if old.ends_on and old.starts_on else dt.timedelta(days=364)
    ends = starts + length
    renewal = ends - (old.ends_on - old.renewal_on) if old.renewal_on and old.ends_on else None
    data = {"title": old.title, "customer_id": old.customer_id, "contact_id": old.contact_id,
            "currency": old.currency, "amount": old.amount, "terms": old.terms, "status": "draft",
            "opportunity_id": old.opportunity_id, "project_id": old.project_id,
            "starts_on": starts, "ends_on": ends, "renewal_on": renewal, "owner_id": old.owner_id}
    data = {key: value for key, value in data.items() if not (key in LINKED_ENTITIES and
                                                              current().entities.get(LINKED_ENTITIES[key]) is None)}
    record = core_services.create(session, contract_spec(), data, current().entities, commit=False)
    record.previous_id = old.id
    session.flush()
    return record


def expiring(session, days: int, on: dt.date | None = None, limit=EXPIRING_LIMIT) -> list[Contract]:
    """Active contracts the caller can see that end — or must be decided on (renewal date) — within
    ``days`` days, including those already past their end but still active; soonest first."""
    on = on or today()
    until = on + dt.timedelta(days=days)
    stmt = (select(Contract).where(Contract.status == "active",
                                   or_(Contract.ends_on <= until, Contract.renewal_on <= until))
            .order_by(Contract.ends_on.is_(None), Contract.ends_on, Contract.id).limit(limit))
    return list(session.execute(stmt).unique().scalars())


def contracts_of(session, *, customer_id=None, project_id=None, opportunity_id=None, limit=50) -> list[Contract]:
    """Visible contracts of a customer / project / opportunity, newest first."""
    where = []
    for column, value in ((Contract.customer_id, customer_id), (Contract.project_id, project_id),
                          (Contract.opportunity_id, opportunity_id)):
        if value is not None:
            where.append(column == value)
    if not where:
        return []
    return list(session.execute(select(Contract).where(*where).order_by(Contract.id.desc()).limit(limit))
                .unique().scalars())


def relink(session, column_name: str, survivor_id: int, merged_ids: list[int]) -> None:
    """Contracts of merged customers/contacts now point at the survivor (recycle-bin rows too)."""
    column = getattr(Contract, column_name)
    session.execute(update(Contract).where(column.in_(merged_ids))
                    .values({column_name: survivor_id, "version": Contract.version + 1})
                    .execution_options(include_deleted=True, synchronize_session="fetch"))


# ------------------------------------------------------------------ converting an accepted quote

def converted(session, quote_id) -> bool:
    """Has the quote become a contract the caller can see? (to offer "Convert to contract" or not)."""
    return session.execute(select(Contract.id).where(Contract.quote_id == quote_id).limit(1)).first() is not None


def create_from_quote(session, quote_id) -> Contract:
    """A draft contract made from an accepted quote the caller can see: customer, contact, currency, amount
    (the quote's total), opportunity and project come from the quote, and the quote records the conversion.

    Flushes only (the caller commits). Raises ``core.services.NotFound`` (quote missing or out of scope),
    ``ValidationError`` keyed ``quote_id`` (not accepted, superseded, already converted)."""
    from plugins.quotes import services as quotes

    quote = quotes.accepted_quote_for_conversion(session, quote_id)
    with system_scope(session, f"contracts: was quote {quote.id} converted"):
        converted = session.execute(select(Contract.id).where(Contract.quote_id == quote.id)
                                    .execution_options(include_deleted=True).limit(1)).first()
    if converted is not None:
        raise _error("quote_id", _("This quote has already been converted into a contract."))
    data = {"title": quote.title, "customer_id": quote.customer_id, "contact_id": quote.contact_id,
            "currency": quote.currency, "amount": quote.total, "terms": quote.terms, "status": "draft"}
    for column, entity in LINKED_ENTITIES.items():
        if getattr(quote, column, None) is not None and current().entities.get(entity) is not None:
            data[column] = getattr(quote, column)
    # quote_id is no schema field (never typed, never sent through the API): only this service sets it
    data["quote_id"] = quote.id
    record = core_services.create(session, contract_spec(), data, current().entities, commit=False)
    quotes.mark_converted(session, quote, "contract", record.id)
    return record


# ------------------------------------------------------------------ delivery plans (milestones)

def plans_of(session, contract_id) -> list[DeliveryPlan]:
    """Milestones of a contract the caller has loaded through its scope, in plan order."""
    return list(session.execute(select(DeliveryPlan).where(DeliveryPlan.contract_id == contract_id)
                                .order_by(DeliveryPlan.position, DeliveryPlan.due_on, DeliveryPlan.id)).scalars())


def planned_amount(session, contract_id, exclude_id=None) -> Decimal:
    """Sum of the amounts of the contract's milestones that are not cancelled."""
    stmt = select(func.coalesce(func.sum(DeliveryPlan.amount), 0)).where(
        DeliveryPlan.contract_id == contract_id, DeliveryPlan.status != "cancelled")
    if exclude_id is not None:
        stmt = stmt.where(DeliveryPlan.id != exclude_id)
    return Decimal(session.execute(stmt).scalar_one())


def get_plan(session, contract_id, plan_id, action="view") -> tuple[Contract, DeliveryPlan]:
    """(contract, milestone): the contract through the caller's scope for ``action``, the milestone only
    among that contract's own — a milestone id of another contract is ``NotFound``."""
    contract = get_contract(session, contract_id, action=action)
    plan = session.execute(select(DeliveryPlan).where(DeliveryPlan.id == plan_id,
                                                      DeliveryPlan.contract_id == contract.id)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if plan is None:
        raise core_services.NotFound(f"delivery plan {plan_id}")
    return contract, plan


def save_plan(session, contract_id, data: dict, plan_id=None) -> DeliveryPlan:
    """Add (``plan_id`` None) or change a milestone of a contract the caller may edit; ``data`` comes from
    ``DeliveryPlanSchema``. Errors are keyed by field. Flushes and audits; the caller commits."""
    if plan_id is None:
        contract, plan = get_contract(session, contract_id, action="edit"), None
    else:
        contract, plan = get_plan(session, contract_id, plan_id, action="edit")
        expected = data.get("version")
        if expected is not None and expected != plan.version:
            raise core_services.StaleVersion(plan.version)
    _check_contract_open(contract)
    values = _checked_plan_values(session, contract, data, plan)
    if plan is None:
        last = session.execute(select(func.max(DeliveryPlan.position))
                               .where(DeliveryPlan.contract_id == contract.id)).scalar() or 0
        plan = DeliveryPlan(contract_id=contract.id, position=last + 1)
        session.add(plan)
        changes = {"delivery_plan": [None, values["title"]]}
    else:
        changes = {"delivery_plan": [plan.title, values["title"]]}
    for key, value in values.items():
        setattr(plan, key, value)
    session.flush()
    audit.record(session, "contract", contract.id, "update", current_scope(session).user_id, changes)
    return plan


def mark_delivered(session, contract_id, plan_id, on: dt.date | None = None) -> DeliveryPlan:
    """"Delivered" on a milestone: status delivered, dated today unless ``on`` is given."""
    contract, plan = get_plan(session, contract_id, plan_id, action="edit")
    _check_contract_open(contract)
    if plan.status == "cancelled":
        raise _error("status", _("A cancelled milestone cannot be delivered."))
    plan.status, plan.delivered_on = "delivered", on or today()
    session.flush()
    audit.record(session, "contract", contract.id, "update", current_scope(session).user_id,
                 {"delivery_plan": [plan.title, f"{plan.title} ✓ {plan.delivered_on.isoformat()}"]})
    return plan


def delete_plan(session, contract_id, plan_id) -> None:
    contract, plan = get_plan(session, contract_id, plan_id, action="edit")
    _check_contract_open(contract)
    session.delete(plan)
    session.flush()
    audit.record(session, "contract", contract.id, "update", current_scope(session).user_id,
                 {"delivery_plan": [plan.title, None]})


def _check_contract_open(contract):
    if contract.status not in OPEN_STATUSES:
        raise _error("_schema", _("The contract is %(status)s: its delivery plan can no longer change.",
                                  status=status_label(contract.status)))


def _checked_plan_values(session, contract, data, plan) -> dict:
    values = {key: data.get(key) for key in ("title", "due_on", "amount", "items", "status", "delivered_on")}
    values["status"] = values["status"] or "planned"
    if not values["items"] and values["amount"] is None:
        raise _error("items", _("Enter the items to deliver, an amount, or both."))
    if values["amount"] is not None:
        amount = Decimal(values["amount"])
        if quantize(amount, contract.currency) != amount:
            raise _error("amount", _("Too many decimal places for %(currency)s.", currency=contract.currency))
        values["amount"] = amount.quantize(CENTS)
    if values["status"] == "delivered":
        values["delivered_on"] = values["delivered_on"] or today()
    elif values["delivered_on"] is not None:
        raise _error("delivered_on", _("Only a delivered milestone has a delivery date."))
    if values["amount"] is not None and values["status"] != "cancelled":
        others = planned_amount(session, contract.id, exclude_id=plan.id if plan is not None else None)
        if others + values["amount"] > contract.amount:
            remaining = max(contract.amount - others, Decimal(0))
            raise _error("amount", _("The milestones may not exceed the contract amount: at most %(left)s "
                                     "%(currency)s is left.", left=_plain_amount(remaining),
                                     currency=contract.currency))
    return values


def overdue_count(plans, on: dt.date | None = None) -> int:
    on = on or today()
    return sum(1 for plan in plans if plan.overdue(on))


__all__ = [
    "TRANSITIONS", "allowed_statuses", "change_status", "contracted_statuses", "contracts_of", "create_from_quote",
    "delete_plan", "expiring", "follow_on", "get_contract", "get_plan", "mark_delivered", "on_save",
    "planned_amount", "plans_of", "renew", "save_plan",
]
