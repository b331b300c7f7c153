"""Data scope, enforced once.

A role grants ``(permission, level)`` with level none < own < team < all; a user's effective level is the
widest over his roles; team = his department subtree (materialised path). One ``do_orm_execute`` listener
adds ``with_loader_criteria`` for every registered entity to every ORM SELECT/UPDATE/DELETE of a session,
so lists, details, search, export, API, panels and charts all see the same rows.

Fail closed: a session without ``info["scope"]`` refuses ORM statements. Jobs and the CLI use an explicit,
logged ``system_scope()``. Raw ``text()``/Core statements bypass the listener and are not allowed outside
``core`` (a test greps for them). ``Session.get`` can answer from the identity map without SQL: use
``core.scope.get_scoped`` (``populate_existing``) for scoped loads.
"""
from __future__ import annotations

import contextlib
import logging

from sqlalchemy import event, false, or_, select
from sqlalchemy.orm import with_loader_criteria

from core.db import GuanxiSession, OwnedMixin, SoftDeleteMixin
from core.permissions import RANK, widest

log = logging.getLogger("guanxi.scope")


class ScopeMissing(RuntimeError):
    """An ORM query ran in a session that has no data scope (a bug: fail closed)."""


class DataScope:
    """What one principal may see. ``levels`` maps permission -> level."""

    kind = "user"

    def __init__(self, registry, hook=None, user=None, levels=None, team_department_ids=()):
        self.registry = registry
        self.hook = hook
        self.user = user
        self.user_id = user.id if user is not None else None
        self.levels = dict(levels or {})
        self.team_department_ids = tuple(team_department_ids)
        self._options = None

    # -- questions views and services ask
    def level(self, permission: str) -> str:
        return self.levels.get(permission, "none")

    def has(self, permission: str) -> bool:
        return RANK[self.level(permission)] > 0

    def criteria(self, spec, action="view"):
        """Boolean expression limiting ``spec.model`` rows for ``action``; None means "all rows"."""
        level = self.level(spec.permission(action))
        model = spec.model
        if level == "all":
            return None
        if level == "none" or not spec.scoped:
            return false()
        if self.hook is not None:
            custom = self.hook.entity_scope_filter(entity=spec.name, user=self.user, level=level, model=model)
            if custom is not None:
                return custom
        if level == "own":
            return model.owner_id == self.user_id
        return or_(model.owner_id == self.user_id, model.department_id.in_(self.team_department_ids))

    def may_assign(self, spec, owner, action="create") -> bool:
        """May this principal make ``owner`` (a User) the owner of a record (create/edit/import/bulk)?"""
        level = self.level(spec.permission(action))
        if level == "all":
            return True
        if owner is None or level == "none":
            return False
        if level == "own":
            return owner.id == self.user_id
        return owner.id == self.user_id or owner.department_id in self.team_department_ids

    def loader_options(self):
        if self._options is None:
            opts = []
            for spec in self.registry:
                crit = self.criteria(spec, "view")
                if crit is not None:
                    opts.append(with_loader_criteria(spec.model, crit, include_aliases=True))
            self._options = tuple(opts)
        return self._options

    def describe(self) -> str:
        return f"user {self.user_id}"


class SystemScope(DataScope):
    """Everything: jobs, CLI, migrations, start-up. Always entered through ``system_scope()``."""

    kind = "system"

    def __init__(self, reason: str):
        super().__init__(registry=())
        self.reason = reason

    def level(self, permission):
        return "all"

    def loader_options(self):
        return ()

    def may_assign(self, spec, owner, action="create"):
        return True

    def describe(self):
        return f"system ({self.reason})"


class AnonymousScope(DataScope):
    """Before login: no entity rows at all (users/departments/roles are not entities and stay readable)."""

    kind = "anonymous"

    def __init__(self, registry):
        super().__init__(registry=registry)


def build_user_scope(session, user, registry, hook=None) -> DataScope:
    """Effective levels of ``user`` over his roles; team = his department subtree."""
    from core.models import Department

    levels: dict[str, str] = {}
    if user is not None and user.active:
        for role in user.roles:
            for grant in role.grants:
                levels[grant.permission] = widest([levels.get(grant.permission, "none"), grant.level])
    team = ()
    if user is not None and user.department_id is not None:
        dept = session.execute(select(Department).where(Department.id == user.department_id)).scalar_one()
        team = session.execute(
            select(Department.id).where(Department.path.startswith(dept.path))).scalars().all()
    return DataScope(registry, hook=hook, user=user, levels=levels, team_department_ids=team)


def set_scope(session, scope: DataScope):
    session.info["scope"] = scope


def current_scope(session) -> DataScope:
    scope = session.info.get("scope")
    if scope is None:
        raise ScopeMissing("no data scope on this session")
    return scope


@contextlib.contextmanager
def system_scope(session, reason: str):
    """Run with no data limits, logged with its reason; restores the previous scope afterwards."""
    previous = session.info.get("scope")
    log.info("system scope entered: %s", reason)
    session.info["scope"] = SystemScope(reason)
    try:
        yield session
    finally:
        if previous is None:
            session.info.pop("scope", None)
        else:
            session.info["scope"] = previous


def get_scoped(session, model, record_id, *where, include_deleted=False):
    """Load one row through the scoped query (never from a warm identity map); None when out of scope."""
    stmt = select(model).where(model.id == record_id, *where).execution_options(
        populate_existing=True, include_deleted=include_deleted)
    return session.execute(stmt).unique().scalar_one_or_none()


def _hide_deleted(cls):
    return cls.deleted_at.is_(None)


@event.listens_for(GuanxiSession, "do_orm_execute")
def _apply_data_scope(state):
    if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
        return
    scope = state.session.info.get("scope")
    if scope is None:
        raise ScopeMissing("ORM query in a session without data scope; use system_scope() in jobs/CLI")
    options = list(scope.loader_options())
    if not state.execution_options.get("include_deleted", False):
        options.append(with_loader_criteria(SoftDeleteMixin, _hide_deleted, include_aliases=True))
    if options:
        state.statement = state.statement.options(*options)


__all__ = [
    "DataScope", "SystemScope", "AnonymousScope", "ScopeMissing", "build_user_scope", "set_scope",
    "current_scope", "system_scope", "get_scoped", "OwnedMixin",
]
