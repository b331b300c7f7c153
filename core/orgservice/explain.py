""""Why can this user see this record?" — explained from the rules, answered by the user's real query."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from core.models import User
from core.orgservice.common import ROLES, current_gx
from core.scope import build_user_scope, get_scoped, set_scope
from core.services import NotFound, require


@dataclass
class Explanation:
    """Why ``user`` can (or cannot) see ``record``. ``matched`` is what the rules predict (None when a
    module's own scope rule decides); ``visible`` is the definitive answer of the real scoped query."""

    user: User
    entity: str
    record: object
    permission: str
    roles: list = field(default_factory=list)  # [(Role, level)] granting the view permission
    level: str = "none"
    rule: str = "none"  # inactive | none | unscoped | all | own | team | custom
    matched: bool | None = None
    visible: bool = False
    facts: dict = field(default_factory=dict)

    @property
    def consistent(self) -> bool:
        return self.matched is None or self.matched == self.visible


def explain(session, user_id, entity, record_id) -> Explanation:
    """Explain the visibility of record ``record_id`` of ``entity`` to user ``user_id``.

    The caller needs ``core.admin.roles`` and must see the record himself (otherwise NotFound, exactly like
    a missing id). The answer comes from the user's real scoped query on a fresh session, so it can never
    disagree with what the user actually sees; the rule analysis only explains it.
    """
    require(session, ROLES)
    gx = current_gx()
    spec = gx.entities.get(entity)
    if spec is None:
        raise NotFound(f"entity {entity}")
    record = get_scoped(session, spec.model, record_id)
    user = session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if record is None or user is None:
        raise NotFound(f"{entity} {record_id} / user {user_id}")
    permission = spec.permission("view")
    result = Explanation(user=user, entity=entity, record=record, permission=permission)
    result.roles = [(role, g.level) for role in user.roles for g in role.grants
                    if g.permission == permission and g.level != "none"]
    user_scope, result.visible = _real_visibility(gx, spec, user.id, record_id)
    result.level = user_scope.level(permission)
    _apply_rule(gx, spec, user, record, user_scope, result)
    return result


def _real_visibility(gx, spec, user_id, record_id):
    """The user's own scope and whether his real scoped query returns the record (fresh session)."""
    fresh = gx.new_session()
    try:
        user = fresh.execute(select(User).where(User.id == user_id)).scalar_one()
        scope = build_user_scope(fresh, user, gx.entities, gx.hook)
        set_scope(fresh, scope)
        return scope, get_scoped(fresh, spec.model, record_id) is not None
    finally:
        fresh.close()


def _apply_rule(gx, spec, user, record, scope, result):
    level = result.level
    if not user.active:
        result.rule, result.matched = "inactive", False
    elif level == "none":
        result.rule, result.matched = "none", False
    elif level == "all":
        result.rule, result.matched = "all", True
    elif not spec.scoped:  # records without owner: only the level "all" shows them
        result.rule, result.matched = "unscoped", False
    elif gx.hook.entity_scope_filter(entity=spec.name, user=user, level=level, model=spec.model) is not None:
        result.rule, result.matched = "custom", None
    else:
        owns = record.owner_id == user.id
        in_team = record.department_id in scope.team_department_ids
        result.facts = {"owner_id": record.owner_id, "record_department_id": record.department_id,
                        "user_department_id": user.department_id, "owns": owns, "in_team": in_team}
        result.rule = level
        result.matched = owns if level == "own" else (owns or in_team)
