"""Departments: the company tree with its materialised paths (``/1/4/9/``) that team scopes rely on."""
from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.db import Base, OwnedMixin
from core.i18n import _l
from core.models import Department, User
from core.orgservice.common import DEPARTMENTS, as_int, caller_id, invalid
from core.scope import system_scope
from core.services import NotFound, require


def departments_tree(session) -> list[Department]:
    """Every department in tree order (by materialised path); ``depth`` is set for indentation."""
    depts = session.execute(select(Department)).scalars().all()
    by_id = {d.id: d for d in depts}

    def sort_key(dept):
        return [(by_id[int(i)].name if int(i) in by_id else "", int(i)) for i in dept.path.strip("/").split("/")
                if i]

    depts.sort(key=sort_key)
    for dept in depts:
        dept.depth = max(dept.path.count("/") - 2, 0)
    return depts


def get_department(session, dept_id) -> Department:
    require(session, DEPARTMENTS)
    dept = session.execute(select(Department).where(Department.id == dept_id)).scalar_one_or_none()
    if dept is None:
        raise NotFound(f"department {dept_id}")
    return dept


def _clean_dept_name(name):
    name = (name or "").strip()
    if not name:
        raise invalid("name", _l("This field is required."))
    if len(name) > 100:
        raise invalid("name", _l("At most %(n)d characters.", n=100))
    return name


def _parent(session, parent_id, field_name="parent_id"):
    if parent_id in (None, ""):
        return None
    parent_id = as_int(parent_id)
    parent = session.execute(select(Department).where(Department.id == parent_id)).scalar_one_or_none() \
        if parent_id is not None else None
    if parent is None:
        raise invalid(field_name, _l("Unknown department."))
    return parent


def create_department(session, name, parent_id=None) -> Department:
    require(session, DEPARTMENTS)
    name = _clean_dept_name(name)
    parent = _parent(session, parent_id)
    dept = Department(name=name, parent_id=parent.id if parent else None)
    session.add(dept)
    session.flush()
    dept.path = f"{parent.path if parent else '/'}{dept.id}/"
    audit.record(session, "department", dept.id, "create", caller_id(session),
                 {"name": [None, name], "parent_id": [None, dept.parent_id]})
    session.commit()
    return dept


def rename_department(session, dept_id, name) -> Department:
    dept = get_department(session, dept_id)
    name = _clean_dept_name(name)
    if name != dept.name:
        audit.record(session, "department", dept.id, "update", caller_id(session), {"name": [dept.name, name]})
        dept.name = name
    session.commit()
    return dept


def move_department(session, dept_id, new_parent_id) -> Department:
    """Put a department under another one (or at the top) and rebuild the paths of its whole subtree, so
    team scopes follow at the next request. Moving under itself or a descendant is refused."""
    dept = get_department(session, dept_id)
    parent = _parent(session, new_parent_id)
    if parent is not None and parent.path.startswith(dept.path):
        raise invalid("parent_id", _l("A department cannot be moved under itself or one of its sub-departments."))
    old_prefix = dept.path
    new_prefix = f"{parent.path if parent else '/'}{dept.id}/"
    if new_prefix != old_prefix:
        subtree = session.execute(select(Department).where(Department.path.startswith(old_prefix))).scalars()
        for node in subtree:
            node.path = new_prefix + node.path[len(old_prefix):]
        audit.record(session, "department", dept.id, "move", caller_id(session),
                     {"parent_id": [dept.parent_id, parent.id if parent else None]})
        dept.parent_id = parent.id if parent else None
    session.commit()
    return dept


def set_department_manager(session, dept_id, user_id) -> Department:
    dept = get_department(session, dept_id)
    manager_id = None
    if user_id not in (None, ""):
        manager = session.execute(select(User).where(User.id == as_int(user_id))).scalar_one_or_none() \
            if as_int(user_id) is not None else None
        if manager is None or not manager.active:
            raise invalid("manager_id", _l("Unknown or inactive user."))
        manager_id = manager.id
    if manager_id != dept.manager_id:
        audit.record(session, "department", dept.id, "update", caller_id(session),
                     {"manager_id": [dept.manager_id, manager_id]})
        dept.manager_id = manager_id
    session.commit()
    return dept


def _owned_models():
    return [m.class_ for m in Base.registry.mappers if issubclass(m.class_, OwnedMixin)]


def _other_department_references():
    """Foreign-key columns to ``department.id`` outside the department and owned-record tables (those the
    database does not clear by itself on delete)."""
    owned = {model.__table__.name for model in _owned_models()} | {"department", "user_account"}
    return [fk.parent for table in Base.metadata.sorted_tables if table.name not in owned
            for fk in table.foreign_keys
            if fk.column.table.name == "department" and (fk.ondelete or "").upper() not in ("CASCADE", "SET NULL")]


def delete_department(session, dept_id):
    """Delete a department that has no sub-departments, no users and no records."""
    dept = get_department(session, dept_id)
    if session.execute(select(Department.id).where(Department.parent_id == dept.id).limit(1)).first():
        raise invalid("department", _l("Move or delete its sub-departments first."))
    if session.execute(select(User.id).where(User.department_id == dept.id).limit(1)).first():
        raise invalid("department", _l("Move its users to another department first."))
    # Records the caller may not see still belong to the department: look with the system scope.
    with system_scope(session, f"delete department {dept.id}: look for records"):
        for model in _owned_models():
            stmt = select(model.id).where(model.department_id == dept.id).limit(1)
            if session.execute(stmt.execution_options(include_deleted=True)).first():
                raise invalid("department", _l("Records still belong to this department; transfer them first."))
        # Plugin tables may point at departments too (a department's customer pool, ...).
        for column in _other_department_references():
            if session.execute(select(column).where(column == dept.id).limit(1)).first():
                raise invalid("department", _l("Other records still refer to this department; change them first."))
    audit.record(session, "department", dept.id, "delete", caller_id(session), {"name": [dept.name, None]})
    session.delete(dept)
    session.commit()

