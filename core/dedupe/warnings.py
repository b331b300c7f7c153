"""The create-form warning: "this looks like an existing record".

Only records the user can see are ever named. A similar record outside his scope produces no warning at
all — not even an anonymous "a similar record exists that you cannot see": that sentence alone would let
anyone test whether a phone number or company is a colleague's (or a competitor's) customer, which is the
existence oracle SECURITY.md forbids (an out-of-scope record must look exactly like a missing one). Managers
find duplicates across their team with the duplicate finder instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import false, or_, select

from core.dedupe import MERGEABLE
from core.dedupe.keys import email_value, name_value, phone_value

MAX_WARNINGS = 5
CONFIRM_FIELD = "dedupe_confirm"  # the "Save anyway" box of the form


@dataclass
class Similar:
    """A visible record like the one being created, with the keys it shares (``name_key``...)."""

    record: object
    reasons: list = field(default_factory=list)


def _conditions(spec, data) -> dict:
    """key column -> the values a similar record would carry there."""
    model = spec.model
    phones = {phone_value(data.get(name)) for name in ("phone", "mobile")} - {None}
    wanted = {"name_key": {name_value(data.get("name"))} - {None}, "phone_key": phones,
              "email_key": {email_value(data.get("email"))} - {None}}
    conditions = {}
    for column, values in wanted.items():
        if not values:
            continue
        condition = getattr(model, column).in_(sorted(values))
        if column == "name_key" and spec.name == "contact":
            # a contact's name only says something within its customer
            condition = condition & (model.customer_id == data.get("customer_id")) \
                if data.get("customer_id") else false()
        conditions[column] = condition
    return conditions


def similar_records(session, spec, data: dict, limit: int = MAX_WARNINGS) -> list[Similar]:
    """Visible records of ``spec`` that share a normalised name, phone or e-mail with ``data``.

    ``session`` carries the user's data scope, so records he cannot see never come back.
    """
    if spec.name not in MERGEABLE:
        return []
    conditions = _conditions(spec, data)
    if not conditions:
        return []
    model = spec.model
    rows = session.execute(select(model).where(or_(*conditions.values())).order_by(model.id.desc())
                           .limit(limit)).unique().scalars().all()
    keys = {"name_key": {name_value(data.get("name"))},
            "phone_key": {phone_value(data.get("phone")), phone_value(data.get("mobile"))},
            "email_key": {email_value(data.get("email"))}}
    found = []
    for record in rows:
        reasons = [column for column in conditions if getattr(record, column) in keys[column] - {None}
                   and (column != "name_key" or spec.name != "contact"
                        or record.customer_id == data.get("customer_id"))]
        found.append(Similar(record, reasons))
    return found


def warning_before_create(session, spec, data: dict, form) -> list[Similar]:
    """The warning to show instead of saving, or [] to go ahead (no match, or "Save anyway" ticked)."""
    if (form.get(CONFIRM_FIELD) or "") in ("1", "on", "yes"):
        return []
    return similar_records(session, spec, data)
