"""Choices for owner and reference inputs (forms and list filters), limited to what the user may use."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, url_for
from sqlalchemy import select

from core import services
from core.i18n import _
from core.models import User
from core.runtime import current, db
from core.scope import current_scope, get_scoped
from core.web.common import parse_id

# Above this many visible records a reference input becomes an autocomplete (web.record_lookup).
REFERENCE_SELECT_MAX = 100


def _active_users():
    """Active users (id, name, department_id), once per request."""
    if "_web_active_users" not in g:
        g._web_active_users = db().execute(
            select(User.id, User.name, User.department_id).where(User.active.is_(True))
            .order_by(User.name, User.id)).all()
    return g._web_active_users


def owner_options(spec, action: str, current_owner_id=None) -> list[tuple[int, str]]:
    """Users the current user may make owner for ``action`` (create/edit/view filter), plus the current one."""
    scope = current_scope(db())
    options = [(u.id, u.name) for u in _active_users() if scope.may_assign(spec, u, action)]
    if current_owner_id and all(uid != current_owner_id for uid, _name in options):
        name = db().execute(select(User.name).where(User.id == current_owner_id)).scalar_one_or_none()
        if name is not None:
            options.insert(0, (current_owner_id, name))
    return options


@dataclass
class Picker:
    """A reference input: a plain select of ``options``, or an htmx autocomplete when there are many."""

    entity: str
    options: list = field(default_factory=list)  # [(id, title)]
    autocomplete: bool = False
    lookup_url: str = ""
    available: bool = True  # False when the user may not view the referenced entity at all


def reference_picker(entity: str, current_value=None) -> Picker:
    """Visible records of ``entity`` to choose from (the scoped session decides which)."""
    target = current().entities.get(entity)
    session = db()
    if target is None or not current_scope(session).has(target.permission("view")):
        return Picker(entity, available=False)
    model = target.model
    # Ids first (an index read through the same scoped query): above REFERENCE_SELECT_MAX visible records the
    # input is an autocomplete and no record needs loading at all (measured in bench/: a list page with four
    # reference filters spent a third of its time loading 4 x 101 full records only to throw them away).
    ids = session.execute(services.list_query(session, target).with_only_columns(model.id)
                          .order_by(model.id.desc()).limit(REFERENCE_SELECT_MAX + 1)).scalars().all()
    picker = Picker(entity, lookup_url=url_for("web.record_lookup", entity=entity))
    if len(ids) > REFERENCE_SELECT_MAX:
        picker.autocomplete = True
        rows = []
    else:
        rows = session.execute(select(model).where(model.id.in_(ids))).unique().scalars().all() if ids else []
    picker.options = sorted(((r.id, target.title(r)) for r in rows), key=lambda o: o[1].lower())
    value = parse_id(current_value)
    if value is not None and all(rid != value for rid, _title in picker.options):
        record = get_scoped(session, target.model, value)
        picker.options.insert(0, (value, target.title(record) if record is not None else _("(not visible)")))
    return picker

