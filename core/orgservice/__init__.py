"""Organisation services: users, departments, roles, module switches and "why can this user see this record".

Every administration write (pages, API, CLI) goes through these functions. Each takes the caller's session,
checks the caller's permission first (``core.services.require``) and raises:

* ``core.services.Forbidden`` when the caller lacks the permission or tries to widen access beyond his own;
* ``core.services.NotFound`` for unknown ids;
* ``marshmallow.ValidationError({field: [message]})`` for input the caller can fix.

Mass-assignment defence (SECURITY.md A.8): nobody changes his own roles, and a caller may only grant, remove
or manage roles whose every grant is within his own levels (so a department-level administrator cannot make
anybody a boss, nor take over the boss's account by resetting its password).
"""
from core.orgservice.common import (
    DEPARTMENTS, MODULES, ROLES, USERS, exceeding_grants, may_grant_role, may_manage_user, role_grants,
)
from core.orgservice.departments import (
    create_department, delete_department, departments_tree, get_department, move_department,
    rename_department, set_department_manager,
)
from core.orgservice.explain import Explanation, explain
from core.orgservice.modules import module_states, set_module_enabled
from core.orgservice.roles import create_role, delete_role, get_role, list_roles, role_user_counts, update_role
from core.orgservice.users import (
    create_user, deactivate_user, get_user, list_users, reactivate_user, roles_for_assignment, seats_used,
    set_password, update_user,
)

__all__ = [
    "USERS", "DEPARTMENTS", "ROLES", "MODULES", "exceeding_grants", "may_grant_role", "may_manage_user",
    "role_grants", "create_department", "delete_department", "departments_tree", "get_department",
    "move_department", "rename_department", "set_department_manager", "Explanation", "explain",
    "module_states", "set_module_enabled", "create_role", "delete_role", "get_role", "list_roles",
    "role_user_counts", "update_role", "create_user", "deactivate_user", "get_user", "list_users",
    "reactivate_user", "roles_for_assignment", "seats_used", "set_password", "update_user",
]
