"""Checks of custom values that need the database, run by the record services inside the save.

* references (user, customer, contact) must be visible to the saver — the same scoped lookup as the
  record's own reference fields, so nobody links to what he cannot see;
* unique fields are unique across ALL records (a system-scope existence query), and the answer is only
  "already used": never which record, nor whether the saver could see it.
"""
from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import select

from core.customfields import registry
from core.customfields.indexes import filter_expression
from core.customfields.schema import extensible
from core.customfields.types import all_types
from core.i18n import _l
from core.scope import get_scoped, system_scope


def check_custom_values(session, spec, custom, registry_, record_id=None):
    """Raise ``ValidationError({"custom": {key: [...]}})`` for invisible references or used unique values."""
    if not custom or not extensible(spec):
        return
    from core.runtime import current
    types = all_types(current().pm)
    errors = {}
    for fdef in registry.active_definitions(session, spec.name):
        value = custom.get(fdef.key)
        ftype = types.get(fdef.type)
        if value is None or ftype is None:
            continue
        if ftype.reference and not _reference_visible(session, ftype.reference, value, registry_):
            errors[fdef.key] = [str(_l("Not found."))]
        elif fdef.unique and ftype.uniqueable and _value_used(session, spec, fdef, ftype, value, record_id):
            errors[fdef.key] = [str(_l("This value is already used."))]
    if errors:
        raise ValidationError({"custom": errors})


def _reference_visible(session, reference, value, registry_) -> bool:
    from core.models import User
    if reference == "user":
        user = session.execute(select(User).where(User.id == value)).scalar_one_or_none()
        return user is not None and user.active
    target = registry_.get(reference)
    return target is not None and get_scoped(session, target.model, value) is not None


def _value_used(session, spec, fdef, ftype, value, record_id) -> bool:
    dialect = session.get_bind().dialect.name
    model = spec.model
    expression = filter_expression(model, fdef, ftype, dialect)
    compare = ftype.parse_filter(str(value), fdef) if ftype.storage in ("integer", "decimal") else value
    stmt = select(model.id).where(ftype.filter_clause(expression, compare))
    if record_id is not None:
        stmt = stmt.where(model.id != record_id)
    # Global on purpose: uniqueness is a property of all records, seen or not; deleted ones count too.
    with system_scope(session, f"unique check {spec.name}.{fdef.key}"):
        return session.execute(stmt.limit(1).execution_options(include_deleted=True)).first() is not None
