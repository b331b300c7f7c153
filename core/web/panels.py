"""Core panels of detail pages: contacts and follow-ups of a customer, follow-ups of every entity whose spec has
``follow_ups=True``, the record a follow-up concerns, attachments and the audit trail.

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
                 "detach": _l("removed a file"), "merge": _l("merged"),
                 "mail": _l("sent an e-mail")}
PANEL_ROWS = 50


def core_panels(spec, record, can_edit: bool) -> list[Panel]:
    panels = []
    if spec.name == "customer":
        panels += [p for p in (_contacts_panel(record), _followups_panel(record)) if p is not None]
    elif spec.follow_ups:  # leads, opportunities, projects...: follow-ups attached through related_entity/id
        panels += [p for p in (_related_followups_panel(spec, record),) if p is not None]
    if spec.name == "followup" and record.related_entity:
        panels.append(_concerns_panel(record))
    chain = _deal_chain_panel(spec, record)
    if chain is not None:
        panels.append(chain)
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
        "full_form_url": url_for("web.record_new", entity="followup", customer_id=customer.id,
                                 next=detail_url(current().entities["customer"], customer.id))
        if has(spec.permission("create")) else None,
        "customer_id": customer.id, "back": detail_url(current().entities["customer"], customer.id),
        "all_url": url_for("web.record_list", entity="followup", f_customer_id=customer.id),
    })


def followup_add_url(entity, record_id, customer_id=None, back=None) -> str:
    """The core follow-up form, prefilled to attach the new follow-up to ``entity`` ``record_id``."""
    args = {"related_entity": entity, "related_id": record_id}
    if customer_id:
        args["customer_id"] = customer_id
    if back:
        args["next"] = back
    return url_for("web.record_new", entity="followup", **args)


def _record_customer_id(record):
    """The customer a record belongs to, if it has one (``customer_id``, or ``follow_up_customer_id`` for
    records linked to several customers, such as a project)."""
    return getattr(record, "follow_up_customer_id", None) or getattr(record, "customer_id", None)


def _related_followups_panel(spec, record):
    """Follow-ups of a plugin record whose spec says ``follow_ups=True`` (scoped: only visible ones)."""
    target = current().entities.get("followup")
    if target is None or not has(target.permission("view")):
        return None
    model = target.model
    stmt = (services.list_query(db(), target).where(model.related_entity == spec.name, model.related_id == record.id)
            .order_by(model.happened_at.desc(), model.id.desc()).limit(PANEL_ROWS))
    rows = db().execute(stmt).unique().scalars().all()
    kind = target.field("kind")
    back = detail_url(spec, record.id)
    can_add = has(target.permission("create"))
    return Panel("followups", target.label_plural, "web/panels/followups.html", order=20, context={
        "spec": target, "rows": rows, "lookups": display.load_lookups(db(), target, rows, ["owner_id", "kind"]),
        "kinds": [(value, str(label)) for value, label in (kind.choices if kind else [])],
        "add_url": url_for("web.record_new", entity="followup") if can_add else None,
        "full_form_url": followup_add_url(spec.name, record.id, _record_customer_id(record), back) if can_add
        else None,
        "customer_id": _record_customer_id(record) or "", "related_entity": spec.name, "related_id": record.id,
        "back": back, "all_url": None,
    })


def _concerns_panel(followup):
    """On a follow-up's page: the lead/opportunity/project it concerns (a link only if the user sees it)."""
    target = current().entities.get(followup.related_entity)
    titles = display.load_titles(db(), followup.related_entity, {followup.related_id}) if target else {}
    title = titles.get((followup.related_entity, followup.related_id))
    return Panel("concerns", _l("Concerns"), "web/panels/concerns.html", order=5, context={
        "entity_label": target.label if target else followup.related_entity, "title": title,
        "url": detail_url(target, followup.related_id) if target is not None and title is not None else None,
    })


CHAIN_KIND_LABELS = {"contracted": _l("Contracted"), "shipped": _l("Shipped"), "invoiced": _l("Invoiced"),
                     "received": _l("Received"), "outstanding": _l("Outstanding")}


def _deal_chain_panel(spec, record):
    """Quote to cash: every module's stages for this record (hook ``deal_chain``) and the totals per
    currency; shown only when some module answers."""
    from flask import g
    from core.chain import TOTAL_KINDS, collect
    chain = collect(spec.name, record, g.get("user"), db())
    if not chain:
        return None
    return Panel("deal_chain", _l("Quote to cash"), "web/panels/deal_chain.html", order=15, context={
        "chain": chain, "kinds": TOTAL_KINDS, "kind_labels": CHAIN_KIND_LABELS,
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
