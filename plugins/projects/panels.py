"""Cards the module adds to detail pages: "Projects" on a customer, stage and links on a project.

Every row comes through the request's scoped session: a panel never shows what the user may not see.
"""
from __future__ import annotations

from flask import request, url_for
from sqlalchemy import select

from core.i18n import _l
from core.models import User
from core.runtime import current
from core.ui import Panel
from core.web.common import may
from core.web.pickers import reference_picker
from plugins.projects import services
from plugins.projects.schemas import IMPORTANCE_CHOICES


def _project_spec():
    return current().entities["project"]


def customer_projects(session, customer) -> Panel:
    projects = services.projects_of_customer(session, customer.id)
    return Panel("projects", _l("Projects"), "projects/customer_panel.html", order=40, context={
        "projects": [(p, services.stage_label(p.stage)) for p in projects],
        "importance": {value: str(label) for value, label in IMPORTANCE_CHOICES},
        "overview_url": url_for("projects.overview"),
    })


def stage_panel(session, project) -> Panel:
    spec = _project_spec()
    stages = services.request_stages()
    by_id = {stage.id: stage for stage in stages}
    rows = services.timeline(session, project.id)
    user_ids = {row.changed_by_id for row in rows if row.changed_by_id}
    users = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    current_stage = by_id.get(project.stage_id)
    active = [s for s in stages if s.active]
    # offer the step after the current one (the usual move); the last stage stays selected at the end
    later = [s for s in active if current_stage is None or (s.position, s.id) > (current_stage.position, current_stage.id)]
    proposed = later[0] if later else current_stage
    return Panel("stage", _l("Stage"), "projects/stage_panel.html", order=5, context={
        "project": project,
        "steps": [(s, services.stage_label(s)) for s in stages if s.active or s.id == project.stage_id],
        "current_stage": current_stage, "current_label": services.stage_label(current_stage),
        "choices": [(s.id, services.stage_label(s)) for s in active],
        "proposed_id": proposed.id if proposed is not None else None,
        "timeline": [{"at": row.changed_at, "who": users.get(row.changed_by_id, ""),
                      "from": services.stage_label(by_id.get(row.from_stage_id)),
                      "to": services.stage_label(by_id.get(row.to_stage_id)), "note": row.note} for row in rows],
        "can_edit": may(spec, project.id, "edit"),
        "change_url": url_for("projects.change_stage", project_id=project.id),
    })


def links_panel(session, project) -> Panel:
    spec = _project_spec()
    can_edit = may(spec, project.id, "edit")
    customers = services.linked_customers(session, project.id)
    contacts = services.linked_contacts(session, project.id)
    context = {
        "project": project, "customers": customers, "contacts": contacts, "can_edit": can_edit,
        "customer_picker": reference_picker("customer") if can_edit else None,
        "contact_choices": services.contact_choices(session, project.id) if can_edit and customers else [],
        "back": request.path,
    }
    return Panel("links", _l("Customers and contacts"), "projects/links_panel.html", order=8, context=context)
