"""Core panels of detail pages: contacts and follow-ups of a customer, attachments and the audit trail.

Plugins add theirs through the ``record_panels`` hook; every panel loads its rows through the request's
scoped session, so a panel can never show what the user may not see.
"""
from __future__ import annotations

from flask import url_for
from core import audit, services
from core.attachments import attachments_of
from core.authz import has
from core.customfields import web as custom_web
from core.i18n import _l
from core.runtime import current, db
from core.ui import Panel
from core.web import display
from core.web.common import detail_url, hidden_fields

AUDIT_ACTIONS = {"create": _l("created"), "update": _l("changed"), "delete": _l("deleted"),
                 "restore": _l("restored"), "transfer": _l("transferred"), "attach": _l("added a file"),
                 "detach": _l("removed a file"), "merge": _l("merged")}
PANEL_ROWS = 50


def core_panels(spec, record, can_edit: bool) -> list[Panel]:
    panels = []
    if spec.name == "customer":
        panels += [p for p in (_contacts_panel(record), _followups_panel(record)) if p is not None]
    panels.append(_attachments_panel(spec, record, can_edit))
    if spec.audit:
        panels.append(_audit_panel(spec, record))
    return panels


def _related_rows(entity, filters, order_by, limit=PANEL_ROWS):
    """Visible rows of ``entity`` matching ``filters`` (None if the user may not view that entity)."""
    target = current().entities.get(entity)
    if target is None or not has(target.permission("view")):
        return target, None
    stmt = services.list_query(db(), target, filters=filters).order_by(*order_by(target.model)).limit(limit)
    return target, db().execute(stmt).unique().scalars().all()


def _contacts_panel(customer):
    spec, rows = _related_rows("contact", {"customer_id": customer.id},
                               lambda m: (m.is_primary.desc(), m.name, m.id))
    if rows is None:
        return None
    columns = [c for c in ("name", "title", "mobile", "email", "owner_id") if c not in hidden_fields(spec)]
    return Panel("contacts", spec.label_plural, "web/panels/contacts.html", order=10, context={
        "spec": spec, "rows": rows, "columns": columns,
        "lookups": display.load_lookups(db(), spec, rows, columns),
        "add_url": url_for("web.record_new", entity="contact", customer_id=customer.id)
        if has(spec.permission("create")) else None,
        "all_url": url_for("web.record_list", entity="contact", f_customer_id=customer.id),
    })


def _followups_panel(customer):
    spec, rows = _related_rows("followup", {"customer_id": customer.id},
                               lambda m: (m.happened_at.desc(), m.id.desc()))
    if rows is None:
        return None
    kind = spec.field("kind")
    return Panel("followups", spec.label_plural, "web/panels/followups.html", order=20, context={
        "spec": spec, "rows": rows, "lookups": display.load_lookups(db(), spec, rows, ["owner_id", "kind"]),
        "kinds": [(value, str(label)) for value, label in (kind.choices if kind else [])],
        "add_url": url_for("web.record_new", entity="followup") if has(spec.permission("create")) else None,
        "customer_id": customer.id, "back": detail_url(current().entities["customer"], customer.id),
        "all_url": url_for("web.record_list", entity="followup", f_customer_id=customer.id),
    })


def _attachments_panel(spec, record, can_edit):
    rows = attachments_of(db(), spec.name, record.id)
    users = display.load_lookups(db(), spec, extra_values=[("owner_id", r.uploaded_by_id) for r in rows]).users
    return Panel("attachments", _l("Attachments"), "web/panels/attachments.html", order=900, context={
        "rows": rows, "users": users, "can_edit": can_edit,
        "upload_url": url_for("web.attachment_upload", entity=spec.name, record_id=record.id),
    })


def _audit_panel(spec, record):
    hidden = hidden_fields(spec) | custom_web.hidden_audit_names(spec)  # deactivated custom fields too
    entries = audit.history(db(), spec, record.id, hidden_fields=hidden)
    values = [(name, v) for _row, changes in entries for name, pair in changes.items() for v in pair or []]
    authors = [("owner_id", row.user_id) for row, _changes in entries]  # "owner_id": looked up as a user
    lookups = display.load_lookups(db(), spec, extra_values=values + authors)
    rows = []
    for row, changes in entries:
        rows.append({
            "at": row.at, "who": lookups.users.get(row.user_id, "") if row.user_id else "",
            "action": str(AUDIT_ACTIONS.get(row.action, row.action)),
            "changes": [(display.label(spec, name),
                         display.cell(spec, name, (pair or [None, None])[0], lookups, from_audit=True),
                         display.cell(spec, name, (pair or [None, None])[-1], lookups, from_audit=True))
                        for name, pair in changes.items()],
        })
    return Panel("audit", _l("History"), "web/panels/audit.html", order=1000, context={"rows": rows})
