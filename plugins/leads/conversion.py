"""Converting a lead into a customer + contact (+ an opportunity when that module is enabled).

Everything happens in ONE database transaction: the customer, contact and opportunity go through the core
record service (``core.services.create``: validation, custom fields, owner checks, audit, search index), the
lead's follow-ups and attachments move to the new customer, and the lead is marked converted. Any error rolls
all of it back: the core services run with ``commit=False`` and ``convert`` commits once at the end (their
``record_created`` signals go out after that commit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import select

from core import audit, services
from core.customfields import schema_for
from core.db import utcnow
from core.dedupe.warnings import similar_records
from core.i18n import _l
from core.models import Attachment, FollowUp, User
from core.scope import current_scope, system_scope
from plugins.leads.schemas import CUSTOMER_SOURCE_OF

CUSTOMER_FIELDS = ("name", "phone", "email", "address")
CONTACT_FIELDS = ("name", "title", "mobile", "phone", "email", "wechat")
OPPORTUNITY_FIELDS = ("name", "amount", "currency", "expected_close")


def opportunities_enabled(registry) -> bool:
    return registry.get("opportunity") is not None


@dataclass
class Result:
    customer: object
    contact: object
    opportunity: object = None
    moved_follow_ups: int = 0
    moved_attachments: int = 0


@dataclass
class Choices:
    """What the conversion page sends: either ``existing_customer_id`` or ``customer`` values, the contact,
    and ``opportunity`` values (None: no opportunity)."""

    customer: dict = field(default_factory=dict)
    contact: dict = field(default_factory=dict)
    opportunity: dict | None = None
    existing_customer_id: int | None = None
    link_existing: bool = False  # "link to an existing customer" chosen: existing_customer_id is required


def prefill(lead) -> dict:
    """The conversion form's initial values, from the lead. Keys are the form's field names."""
    values = {"customer_name": lead.company or lead.name, "customer_phone": lead.phone or lead.mobile,
              "customer_email": lead.email, "customer_address": lead.address,
              "contact_name": lead.name, "contact_title": lead.title, "contact_mobile": lead.mobile,
              "contact_phone": lead.phone, "contact_email": lead.email, "contact_wechat": lead.wechat,
              "opportunity_name": lead.company or lead.name, "opportunity_currency": "CNY"}
    return {key: value or "" for key, value in values.items()}


def duplicates(session, registry, lead) -> list:
    """Visible customers that look like the lead's company or person (normalised name, phone, e-mail),
    directly or through one of their contacts. Newest first, each once."""
    found = {}
    for similar in similar_records(session, registry["customer"], {
            "name": lead.company or lead.name, "phone": lead.phone or lead.mobile, "email": lead.email}):
        found.setdefault(similar.record.id, similar.record)
    for similar in similar_records(session, registry["contact"], {
            "name": lead.name, "mobile": lead.mobile, "phone": lead.phone, "email": lead.email}):
        customer = similar.record.customer
        if customer is not None and customer.deleted_at is None:
            found.setdefault(customer.id, customer)
    return list(found.values())


def _load(session, spec, data, prefix):
    """Schema-load ``data`` for ``spec``; errors come back keyed by the form's field names."""
    try:
        return schema_for(spec, current_scope(session), session=session).load(data)
    except ValidationError as err:
        raise ValidationError({f"{prefix}_{key}": messages for key, messages in err.messages.items()}) from None


def _owner_for(session, registry, lead):
    """Records made from a lead belong to the lead's owner when the caller may give them to him."""
    scope = current_scope(session)
    owner = session.execute(select(User).where(User.id == lead.owner_id)).scalar_one_or_none()
    if owner is not None and owner.active and scope.may_assign(registry["customer"], owner, "create") \
            and scope.may_assign(registry["contact"], owner, "create"):
        return owner.id
    return scope.user_id


def convert(session, registry, lead_id: int, choices: Choices) -> Result:
    """Convert the lead (the caller needs ``leads.lead.convert`` on it); all or nothing.

    On any exception the session is rolled back and nothing is saved.
    """
    try:
        result = _convert(session, registry, lead_id, choices)
        session.commit()
        return result
    except Exception:
        session.rollback()
        raise


def _convert(session, registry, lead_id, choices):
    scope = current_scope(session)
    lead = services.get(session, registry["lead"], lead_id, action="convert")
    if lead.converted_at is not None:
        raise ValidationError({"lead": [str(_l("This lead was already converted."))]})
    owner_id = _owner_for(session, registry, lead)
    if choices.link_existing and not choices.existing_customer_id:
        raise ValidationError({"existing_customer_id": [str(_l("Choose the existing customer."))]})
    if choices.existing_customer_id:
        try:
            customer = services.get(session, registry["customer"], choices.existing_customer_id)
        except services.NotFound:
            raise ValidationError({"existing_customer_id": [str(_l("Not found."))]}) from None
    else:
        data = {key: choices.customer.get(key) for key in CUSTOMER_FIELDS}
        data.update(owner_id=owner_id, source=CUSTOMER_SOURCE_OF.get(lead.source or "", "other"),
                    kind="company" if lead.company else "individual", notes=lead.notes)
        customer = services.create(session, registry["customer"], _load(session, registry["customer"], data,
                                                                        "customer"), registry, commit=False)
    contact_data = {key: choices.contact.get(key) for key in CONTACT_FIELDS}
    contact_data.update(customer_id=customer.id, owner_id=owner_id, is_primary=not choices.existing_customer_id)
    contact = services.create(session, registry["contact"], _load(session, registry["contact"], contact_data,
                                                                  "contact"), registry, commit=False)
    opportunity = None
    if choices.opportunity is not None and opportunities_enabled(registry):
        opportunity = _create_opportunity(session, registry, lead, customer, owner_id, choices.opportunity)
    moved_follow_ups = _move_follow_ups(session, lead, customer, contact)
    moved_attachments = _move_attachments(session, lead, customer, scope.user_id)
    changes = {"status": [lead.status, "converted"], "converted_customer_id": [None, customer.id],
               "converted_contact_id": [None, contact.id]}
    lead.status, lead.converted_customer_id, lead.converted_contact_id = "converted", customer.id, contact.id
    if opportunity is not None:
        lead.converted_opportunity_id = opportunity.id
        changes["converted_opportunity_id"] = [None, opportunity.id]
    lead.converted_at, lead.converted_by_id = utcnow(), scope.user_id
    session.flush()
    audit.record(session, "lead", lead.id, "convert", scope.user_id, changes)
    return Result(customer, contact, opportunity, moved_follow_ups, moved_attachments)


def _create_opportunity(session, registry, lead, customer, owner_id, values):
    spec = registry["opportunity"]
    data = {key: values.get(key) for key in OPPORTUNITY_FIELDS}
    data.update(customer_id=customer.id, owner_id=owner_id)
    if not data.get("name"):
        data["name"] = customer.name
    if lead.source:
        data["source"] = lead.source
    try:
        loaded = schema_for(spec, current_scope(session), session=session).load(data)
    except ValidationError as err:
        if set(err.messages) != {"source"}:
            raise ValidationError({f"opportunity_{k}": v for k, v in err.messages.items()}) from None
        data.pop("source")  # the opportunity module knows other sources: leave it to its default
        loaded = _load(session, spec, data, "opportunity")
    return services.create(session, spec, loaded, registry, commit=False)


def _move_follow_ups(session, lead, customer, contact) -> int:
    """The lead's follow-ups now also belong to the customer and contact (the lead link stays), including
    ones written by colleagues the converting user cannot see."""
    with system_scope(session, f"convert lead {lead.id}: move its follow-ups"):
        rows = session.execute(select(FollowUp).where(FollowUp.related_entity == "lead",
                                                      FollowUp.related_id == lead.id)
                               .execution_options(include_deleted=True)).scalars().all()
        for follow_up in rows:
            follow_up.customer_id, follow_up.contact_id = customer.id, contact.id
        session.flush()
    return len(rows)


def _move_attachments(session, lead, customer, user_id) -> int:
    """The lead's files move to the customer page (the lead links there)."""
    rows = session.execute(select(Attachment).where(Attachment.entity == "lead", Attachment.record_id == lead.id)
                           ).scalars().all()
    for attachment in rows:
        attachment.entity, attachment.record_id = "customer", customer.id
        audit.record(session, "customer", customer.id, "attach", user_id,
                     {"attachment": [None, attachment.filename], "from_lead": [None, lead.id]})
    return len(rows)
