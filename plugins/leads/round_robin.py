"""Round-robin assignment within a team: the next active salesperson of a department subtree gets the lead.

Eligible: active users of the department or one below it who hold ``leads.lead.create`` (own or wider), in
id order. ``leads_round_robin`` keeps, per department, who got the last lead; the row is locked (``SELECT ...
FOR UPDATE`` on PostgreSQL/MariaDB; SQLite serialises writers) and versioned, so two simultaneous picks never
hand out the same turn: the second waits, or fails on the version and is retried by the caller's transaction.
"""
from __future__ import annotations

from sqlalchemy import select

from core.models import Department, Role, RoleGrant, User, user_role
from plugins.leads.models import RoundRobinPointer

CREATE_PERMISSION = "leads.lead.create"


def eligible_users(session, department_id: int) -> list[User]:
    """Active users of the department subtree who may own leads, in a stable (id) order."""
    department = session.execute(select(Department).where(Department.id == department_id)).scalar_one_or_none()
    if department is None:
        return []
    subtree = select(Department.id).where(Department.path.startswith(department.path))
    holders = (select(user_role.c.user_id).join(Role, Role.id == user_role.c.role_id)
               .join(RoleGrant, RoleGrant.role_id == Role.id)
               .where(RoleGrant.permission == CREATE_PERMISSION, RoleGrant.level != "none"))
    stmt = (select(User).where(User.active.is_(True), User.department_id.in_(subtree), User.id.in_(holders))
            .order_by(User.id))
    return list(session.execute(stmt).scalars())


def _pointer(session, department_id: int) -> RoundRobinPointer:
    """The department's pointer row, locked; created on the department's first pick."""
    stmt = (select(RoundRobinPointer).where(RoundRobinPointer.department_id == department_id)
            .with_for_update().execution_options(populate_existing=True))
    pointer = session.execute(stmt).scalar_one_or_none()
    if pointer is None:
        # Two first picks at once: the department row serialises them, the second finds the first's pointer.
        session.execute(select(Department.id).where(Department.id == department_id).with_for_update())
        pointer = session.execute(stmt).scalar_one_or_none()
        if pointer is None:
            pointer = RoundRobinPointer(department_id=department_id)
            session.add(pointer)
            session.flush()
    return pointer


def next_user(session, department_id: int) -> User | None:
    """The user whose turn it is in ``department_id`` (subtree), and move the pointer on; no commit.

    None when nobody there may own leads. The pointer row stays locked until the caller commits.
    """
    users = eligible_users(session, department_id)
    if not users:
        return None
    pointer = _pointer(session, department_id)
    after = [user for user in users if pointer.last_user_id is not None and user.id > pointer.last_user_id]
    chosen = after[0] if after else users[0]
    pointer.last_user_id = chosen.id
    session.flush()
    return chosen
