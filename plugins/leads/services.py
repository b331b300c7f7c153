"""Business rules of leads that are not plain record editing: read-only converted leads, assignment by hand,
and reports. They take the caller's session, so the data scope applies to every row."""
from __future__ import annotations

import datetime as dt

from marshmallow import ValidationError
from sqlalchemy import func, select, update

from core import audit, services, signals
from core.db import utcnow
from core.i18n import _l
from core.models import User
from core.scope import current_scope
from plugins.leads.models import SOURCES, Lead


def lead_spec(registry):
    return registry["lead"]


def refuse_edit_of_converted(session, record, data):
    """``EntitySpec.on_save``: a converted lead is history, its customer is where work goes on."""
    if record.id is not None and record.converted_at is not None:
        raise ValidationError({"status": [str(_l("This lead was converted and can no longer be changed."))]})


def assign(session, registry, lead_ids, owner_id) -> list[Lead]:
    """Give leads to ``owner_id`` by hand (single or bulk), audited; all or nothing.

    Each lead must be one the caller may assign (``leads.lead.assign`` at his scope) and the new owner must
    lie inside that scope, else nothing changes.
    """
    spec = lead_spec(registry)
    scope = current_scope(session)
    services.require(session, spec.permission("assign"))
    owner = session.execute(select(User).where(User.id == owner_id)).scalar_one_or_none() if owner_id else None
    if owner is None or not owner.active:
        raise ValidationError({"owner_id": [str(_l("Unknown or inactive user."))]})
    if not scope.may_assign(spec, owner, "assign"):
        raise ValidationError({"owner_id": [str(_l("You may not assign records to this user."))]})
    leads = [services.get(session, spec, lead_id, action="assign") for lead_id in dict.fromkeys(lead_ids)]
    for lead in leads:
        give(session, lead, owner, scope.user_id)
    session.commit()
    signals.owner_transferred.send("lead", record_ids=[lead.id for lead in leads], user_id=scope.user_id,
                                   new_owner_id=owner.id)
    return leads


def give(session, lead, owner, user_id, how="assign"):
    """Make ``owner`` the lead's owner (no commit); audited as ``how`` when it changes."""
    if lead.owner_id == owner.id:
        return
    audit.record(session, "lead", lead.id, how, user_id, {"owner_id": [lead.owner_id, owner.id]})
    lead.owner_id, lead.department_id = owner.id, owner.department_id


def load_visible(session, registry, lead_id, action="view") -> Lead:
    return services.get(session, lead_spec(registry), lead_id, action=action)


def new_this_week_by_source(session) -> list[tuple[str, int]]:
    """Leads the caller may see that arrived in the last seven days, per source (every source, zero too)."""
    since = utcnow() - dt.timedelta(days=7)
    rows = session.execute(select(Lead.source, func.count(Lead.id)).where(Lead.created_at >= since)
                           .group_by(Lead.source)).all()
    counts = dict.fromkeys(SOURCES, 0)
    for source, count in rows:
        counts[source or "other"] = counts.get(source or "other", 0) + count
    return list(counts.items())


def converted_from(session, entity: str, record_id: int) -> Lead | None:
    """The (visible) lead a customer or contact was converted from."""
    column = Lead.converted_customer_id if entity == "customer" else Lead.converted_contact_id
    return session.execute(select(Lead).where(column == record_id).order_by(Lead.id).limit(1)).scalar_one_or_none()


def relink_converted(session, entity: str, survivor_id: int, merged_ids: list[int]) -> None:
    """Duplicate customers/contacts merged into one: leads converted into them point at the survivor."""
    column = "converted_customer_id" if entity == "customer" else "converted_contact_id"
    session.execute(update(Lead).where(getattr(Lead, column).in_(merged_ids))
                    .values({column: survivor_id, "version": Lead.version + 1})
                    .execution_options(include_deleted=True, synchronize_session="fetch"))



def assign_round_robin(session, registry, lead_ids) -> list[Lead]:
    """Hand the leads out one by one, round-robin among the caller's team (his department subtree); all or
    nothing. Each lead must be one the caller may assign, each chosen owner inside his assign scope."""
    from plugins.leads import round_robin

    spec = lead_spec(registry)
    scope = current_scope(session)
    services.require(session, spec.permission("assign"))
    department_id = scope.user.department_id if scope.user is not None else None
    leads = [services.get(session, spec, lead_id, action="assign") for lead_id in dict.fromkeys(lead_ids)]
    if department_id is None:
        raise ValidationError({"owner_id": [str(_l("Nobody in your team can receive leads."))]})
    owners = set()
    for lead in leads:
        owner = round_robin.next_user(session, department_id)
        if owner is None:
            raise ValidationError({"owner_id": [str(_l("Nobody in your team can receive leads."))]})
        if not scope.may_assign(spec, owner, "assign"):
            raise ValidationError({"owner_id": [str(_l("You may not assign records to this user."))]})
        give(session, lead, owner, scope.user_id, how="assign")
        owners.add(owner.id)
    session.commit()
    for owner_id in owners:
        signals.owner_transferred.send("lead", record_ids=[lead.id for lead in leads if lead.owner_id == owner_id],
                                       user_id=scope.user_id, new_owner_id=owner_id)
    return leads
