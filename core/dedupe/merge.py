"""Merging duplicate customers or contacts into one surviving record.

Rules:
* Every record involved is loaded through ``services.get(action="edit")`` and the merged ones also with
  ``action="delete"``: a record the caller may not edit (or that he cannot see) answers ``NotFound``.
* Per field, the caller chooses which record's value survives (default: the survivor's non-empty value);
  custom-field values are merged per key (the survivor's non-empty value wins); tags are united.
* Every row that points at a merged record is re-linked to the survivor — core's own (contacts,
  follow-ups, attachments) and the plugins' (hook ``merge_records``) — under a system scope, because rows
  the caller cannot see belong to the record too.
* The merged records go to the recycle bin (nothing is erased) and keep their own audit trail; the survivor
  gets a "merge" entry naming the merged ids and the values taken over, each merged record one naming the
  survivor.
* All of it is one transaction: any error leaves the database as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import select, update

from core import audit, services, signals
from core.db import utcnow
from core.dedupe import MERGEABLE
from core.i18n import _l
from core.models import Attachment, Contact, FollowUp, User
from core.scope import current_scope, system_scope

MAX_MERGED = 10  # records merged into one survivor at a time
NOT_CHOSEN = {"custom", "id", "version", "department_id", "created_at", "updated_at", "deleted_at"}


@dataclass
class MergeField:
    """One field of the merge page: the value of each record and the record whose value survives."""

    name: str
    label: str
    values: dict = field(default_factory=dict)  # record id -> value
    chosen: int = 0

    @property
    def differs(self) -> bool:
        return len({repr(v) for v in self.values.values()}) > 1


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def mergeable_fields(spec, user_scope) -> list:
    """Fields whose surviving value the user chooses (not tags or custom values: those are united)."""
    hidden = spec.hidden_fields(user_scope)
    return [f for f in spec.fields if f.name not in hidden and f.name not in NOT_CHOSEN and f.widget != "tags"]


def load_records(session, spec, record_ids) -> list:
    """The records to merge, each one editable and deletable by the caller (else ``services.NotFound``)."""
    if spec.name not in MERGEABLE:
        raise services.NotFound(spec.name)
    ids = list(dict.fromkeys(record_ids))
    if len(ids) < 2 or len(ids) > MAX_MERGED + 1:
        raise ValidationError({"ids": [str(_l("Choose between 2 and %(n)d records to merge.", n=MAX_MERGED + 1))]})
    services.require(session, spec.permission("delete"))
    return [services.get(session, spec, record_id, action="edit") for record_id in ids]


def plan(spec, records, survivor_id, user_scope) -> list[MergeField]:
    """The merge page's fields with the default choice: the survivor's value, unless it is empty."""
    ordered = sorted(records, key=lambda r: r.id != survivor_id)  # survivor first
    fields = []
    for fld in mergeable_fields(spec, user_scope):
        item = MergeField(fld.name, str(fld.label), {r.id: getattr(r, fld.name, None) for r in ordered})
        item.chosen = next((r.id for r in ordered if not _empty(item.values[r.id])), survivor_id)
        fields.append(item)
    return fields


def merge(session, spec, survivor_id: int, merged_ids, choices: dict, hook):
    """Merge ``merged_ids`` into ``survivor_id``; ``choices`` maps field -> id of the record whose value
    survives (missing fields: the default of ``plan``). Commits; returns the survivor."""
    user_scope = current_scope(session)
    merged_ids = [i for i in dict.fromkeys(merged_ids) if i != survivor_id]
    records = load_records(session, spec, [survivor_id, *merged_ids])
    survivor, merged = records[0], records[1:]
    for record_id in merged_ids:  # the merged records go to the recycle bin: delete rights on each
        services.get(session, spec, record_id, action="delete")
    try:
        changes = _take_values(session, spec, survivor, records, choices, user_scope)
        with system_scope(session, f"merge {spec.name} {merged_ids} into {survivor_id}: re-link related rows"):
            RELINKERS[spec.name](session, survivor_id, merged_ids)
            hook.merge_records(entity=spec.name, survivor_id=survivor_id, merged_ids=list(merged_ids),
                               session=session)
            session.flush()
        _retire(session, spec, survivor, merged, changes, user_scope.user_id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    signals.record_updated.send(spec.name, record_id=survivor_id, user_id=user_scope.user_id, changes=changes)
    for record_id in merged_ids:
        signals.record_deleted.send(spec.name, record_id=record_id, user_id=user_scope.user_id)
    return survivor


def _take_values(session, spec, survivor, records, choices, user_scope) -> dict:
    """Set the chosen values on the survivor; returns the audit changes ``{field: [old, new]}``."""
    by_id = {r.id: r for r in records}
    defaults = {f.name: f.chosen for f in plan(spec, records, survivor.id, user_scope)}
    changes = {}
    for name, default_source in defaults.items():
        source = by_id.get(choices.get(name), by_id[default_source])
        old, new = getattr(survivor, name), getattr(source, name)
        if old == new:
            continue
        if name == "owner_id":
            _assign_owner(session, spec, survivor, new, user_scope)
        else:
            setattr(survivor, name, new)
        changes[name] = [old, new]
    _unite_custom(survivor, records, changes)
    if hasattr(survivor, "tags"):
        _unite_tags(survivor, records, changes)
    session.flush()  # a stale survivor (edited meanwhile) fails here, before anything else moved
    return changes


def _assign_owner(session, spec, survivor, owner_id, user_scope):
    owner = session.execute(select(User).where(User.id == owner_id)).scalar_one_or_none() if owner_id else None
    if owner is None or not owner.active or not user_scope.may_assign(spec, owner, "edit"):
        raise ValidationError({"owner_id": [str(_l("You may not assign records to this user."))]})
    survivor.owner_id, survivor.department_id = owner.id, owner.department_id


def _unite_custom(survivor, records, changes):
    custom = dict(survivor.custom or {})
    for record in records[1:]:
        for key, value in (record.custom or {}).items():
            if _empty(custom.get(key)) and not _empty(value):
                custom[key] = value
    if custom != (survivor.custom or {}):
        changes["custom"] = [survivor.custom, custom]
        survivor.custom = custom


def _unite_tags(survivor, records, changes):
    tags = list(survivor.tags)
    for record in records[1:]:
        tags += [t for t in record.tags if t not in tags]
    if len(tags) != len(survivor.tags):
        changes["tags"] = [[t.name for t in survivor.tags], [t.name for t in tags]]
        survivor.tags = tags


def _retire(session, spec, survivor, merged, changes, user_id):
    """Merged records to the recycle bin; the merge in the audit trail of every record involved."""
    now = utcnow()
    for record in merged:
        record.deleted_at = now
        audit.record(session, spec.name, record.id, "merge", user_id, {"merged_into": [None, survivor.id]})
    audit.record(session, spec.name, survivor.id, "merge", user_id,
                 {**changes, "merged_ids": [None, [r.id for r in merged]]})


# ---------------------------------------------------------------- core's own related rows

def _relink(session, model, column, survivor_id, merged_ids, **extra):
    """``UPDATE model SET column = survivor WHERE column IN merged`` (deleted rows too), version bumped."""
    attr = getattr(model, column)
    values = {column: survivor_id, **extra}
    if hasattr(model, "version"):
        values["version"] = model.version + 1
    session.execute(update(model).where(attr.in_(merged_ids)).values(**values)
                    .execution_options(include_deleted=True, synchronize_session="fetch"))


def _relink_related(session, entity, survivor_id, merged_ids):
    """Follow-ups attached to the record through ``related_entity``/``related_id``, and attachments."""
    session.execute(update(FollowUp).where(FollowUp.related_entity == entity, FollowUp.related_id.in_(merged_ids))
                    .values(related_id=survivor_id, version=FollowUp.version + 1)
                    .execution_options(include_deleted=True, synchronize_session="fetch"))
    session.execute(update(Attachment).where(Attachment.entity == entity, Attachment.record_id.in_(merged_ids))
                    .values(record_id=survivor_id).execution_options(synchronize_session="fetch"))


def _relink_customer(session, survivor_id, merged_ids):
    had_primary = session.execute(select(Contact.id).where(
        Contact.customer_id == survivor_id, Contact.is_primary.is_(True)).limit(1)).first() is not None
    if had_primary:  # the survivor keeps its one primary contact; the others' contacts join as ordinary ones
        _relink(session, Contact, "customer_id", survivor_id, merged_ids, is_primary=False)
    else:
        _relink(session, Contact, "customer_id", survivor_id, merged_ids)
    _relink(session, FollowUp, "customer_id", survivor_id, merged_ids)
    _relink_related(session, "customer", survivor_id, merged_ids)


def _relink_contact(session, survivor_id, merged_ids):
    _relink(session, FollowUp, "contact_id", survivor_id, merged_ids)
    _relink_related(session, "contact", survivor_id, merged_ids)


RELINKERS = {"customer": _relink_customer, "contact": _relink_contact}
