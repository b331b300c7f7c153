"""Module switches: an administrator's enable/disable choice, applied when the app servers restart."""
from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.db import utcnow
from core.i18n import _l
from core.models import ModuleState
from core.orgservice.common import MODULES, caller_id, current_gx, invalid
from core.services import require


def module_states(session) -> dict[str, bool]:
    """The administrator's enable/disable choices (applied when the app servers restart)."""
    require(session, MODULES)
    return {row.name: row.enabled for row in session.execute(select(ModuleState)).scalars()}


def set_module_enabled(session, name: str, enabled: bool, installed=None):
    """Record an administrator's choice for an installed module; it takes effect at the next start-up."""
    require(session, MODULES)
    installed = installed if installed is not None else set(current_gx().modules)
    if name == "core" or name not in installed:
        raise invalid("module", _l("Unknown module."))
    row = session.execute(select(ModuleState).where(ModuleState.name == name)).scalar_one_or_none()
    if row is None:
        row = ModuleState(name=name, enabled=enabled)
        session.add(row)
    row.enabled = enabled
    row.changed_at = utcnow()
    audit.record(session, "module", 0, "enable" if enabled else "disable", caller_id(session),
                 {"module": [None, name]})
    session.commit()
    return row

