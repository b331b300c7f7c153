"""Record services: the one place the rules of creating, reading, changing and deleting entity records live.

Pages, API, CLI, imports and jobs all call these functions with a session that carries a data scope.
Authorisation happens *before* any write: the record is loaded through the scoped query for the action
("edit"/"delete"), and owners are checked against the caller's scope. Signals go out after commit.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from core import audit, signals
from core.db import OwnedMixin, SoftDeleteMixin, utcnow
from core.i18n import _l
from core.models import User
from core.scope import current_scope, get_scoped, system_scope


class NotFound(Exception):
    """Missing or out of scope — deliberately indistinguishable."""


class Forbidden(Exception):
    """The caller lacks the permission for this action on this entity type."""


class StaleVersion(Exception):
    """Someone else changed the record since it was read."""

    def __init__(self, current_version):
        super().__init__(current_version)
        self.current_version = current_version


def require(session, permission: str):
    if not current_scope(session).has(permission):
        raise Forbidden(permission)


def get(session, spec, record_id, action="view", include_deleted=False):
    """The record if the caller may ``action`` it, else ``NotFound`` (never a second Python check)."""
    scope = current_scope(session)
    require(session, spec.permission(action))
    where = []
    if action != "view":
        crit = scope.criteria(spec, action)
        if crit is not None:
            where.append(crit)
    record = get_scoped(session, spec.model, record_id, *where, include_deleted=include_deleted)
    if record is None:
        raise NotFound(f"{spec.name} {record_id}")
    return record


# ------------------------------------------------------------------ lists

@dataclass
class Page:
    rows: list
    next_cursor: str | None
    count: int
    count_capped: bool


def _sort_column(spec, sort: str, session=None):
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    custom = _custom_sort(session, spec, name)
    if custom is not None:
        return custom, name, descending
    if name not in spec.sort_fields or not hasattr(spec.model, name):
        name, descending = "id", True
    return getattr(spec.model, name), name, descending


def list_query(session, spec, *, filters=None, search=None, include_deleted=False):
    """SELECT of the entity's visible rows with equality filters and a text search."""
    require(session, spec.permission("view"))
    model = spec.model
    stmt = select(model)
    hidden = spec.hidden_fields(current_scope(session))
    for name, value in (filters or {}).items():
        custom = _custom_filter(session, spec, name, value)
        if custom is not None:
            stmt = stmt.where(custom)
            continue
        if name not in spec.filter_fields or name in hidden or value in (None, ""):
            continue
        stmt = stmt.where(getattr(model, name) == value)
    if search:
        stmt = stmt.where(_search_clause(session, spec, search, hidden, indexed=not include_deleted))
    if include_deleted and issubclass(model, SoftDeleteMixin):
        stmt = stmt.where(model.deleted_at.is_not(None)).execution_options(include_deleted=True)
    return stmt


def _search_clause(session, spec, search, hidden, indexed=True):
    """``?q=``: the ids the search index gives for the term (the global search's matching rules: any CJK
    substring, pinyin, phone digits in any format, word prefixes), inside the caller's scoped query; an
    index range read instead of a scan of the table. ``ILIKE`` on the search fields only when the index
    cannot answer: an entity without a search provider or searching long texts, a term of fewer than two
    searchable characters, or the recycle bin (deleted records have no index entries)."""
    if indexed and spec.search_fields and not _searches_long_text(spec):
        from core.search.query import matching_ids
        ids = matching_ids(session, spec, search.strip())
        if ids is not None:
            return spec.model.id.in_(ids)
    term = f"%{_escape_like(search.strip())}%"
    searchable = [f for f in spec.search_fields if f not in hidden]  # hidden fields cannot be probed
    return or_(false(), *[getattr(spec.model, f).ilike(term, escape="\\") for f in searchable])


def _searches_long_text(spec) -> bool:
    """The index keeps only the start of long texts (a follow-up's content): a list searching them must find
    words anywhere in the text, so it scans its (scoped) rows instead."""
    return any(field is not None and field.widget == "textarea"
               for field in map(spec.field, spec.search_fields))


def _custom_filter(session, spec, name, value):
    """A filter on a custom field (``cf_...``) of the module builder, else None."""
    if not name.startswith("cf_") or value in (None, ""):
        return None
    from core.customfields.query import filter_clause
    return filter_clause(session, spec, name, value)


def _custom_sort(session, spec, name):
    if session is None or not name.startswith("cf_"):
        return None
    from core.customfields.query import sort_expression
    return sort_expression(session, spec, name)


def _row_value(record, name):
    if name.startswith("cf_"):
        return (getattr(record, "custom", None) or {}).get(name)
    return getattr(record, name)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(values, list) and len(values) == 2:
            return values
    except (ValueError, TypeError):
        pass
    raise ValidationError({"cursor": [str(_l("Invalid page cursor."))]})


EAGER_STRATEGIES = {"joined", "selectin", "subquery", "immediate", False}


def shown_only_loading(spec, shown) -> list:
    """Loader options for a page that shows only the attributes ``shown`` of its rows: relationships the
    model loads eagerly by default (a customer's owner, joined, and through it the owner's roles and
    grants; its tags, by selectin) but that are not shown become lazy — four queries and a join fewer per
    list page — and only the shown columns are read. Anything that still reads something else gets it
    (one query per row: the list pages' query-count tests would show it), never a wrong value."""
    from sqlalchemy.orm import lazyload, load_only
    shown = set(shown)
    mapper = spec.model.__mapper__
    options = [lazyload(getattr(spec.model, rel.key)) for rel in mapper.relationships
               if rel.lazy in EAGER_STRATEGIES and rel.key not in shown]
    # Only the shown columns (a customer has ~25, notes and JSON included), when every shown name is a plain
    # column or a custom field; a name that is a Python property may read any column: then all of them.
    columns = {c.key for c in mapper.column_attrs}
    custom = {name for name in shown if name.startswith("cf_")}
    if shown - custom <= columns:
        keep = (shown - custom) | {"id", "owner_id", "department_id"} | ({"custom"} if custom else set())
        keep |= {c.key for c in mapper.column_attrs if mapper.version_id_col is not None
                 and mapper.version_id_col in c.columns}
        options.append(load_only(*[getattr(spec.model, key) for key in sorted(keep & columns)]))
    return options


def page(session, spec, stmt, *, sort="-id", cursor=None, limit=50, count_cap=10000, options=()) -> Page:
    """Keyset (seek) pagination on (sort column, id) plus a capped count — never an unbounded COUNT.

    ``options``: loader options for the rows (not the count), e.g. ``shown_only_loading``."""
    column, name, descending = _sort_column(spec, sort, session)
    model = spec.model
    count_stmt = select(func.count()).select_from(stmt.with_only_columns(model.id).limit(count_cap + 1).subquery())
    count = session.execute(count_stmt.execution_options(**stmt.get_execution_options())).scalar_one()
    if cursor:
        last_value, last_id = decode_cursor(cursor)
        if name != "id":
            last_value = _coerce_cursor_value(column, last_value)
        if name == "id":
            cond = model.id < last_id if descending else model.id > last_id
        else:
            cond = _seek_after(model, column, descending, last_value, last_id)
        stmt = stmt.where(cond)
    order = [column.desc(), model.id.desc()] if descending else [column.asc(), model.id.asc()]
    if name == "id":
        order = order[:1]
    elif getattr(column, "nullable", True):  # NULLs last ascending, first descending, on every database
        order.insert(0, column.is_(None).desc() if descending else column.is_(None).asc())
    if options:
        stmt = stmt.options(*options)
    rows = session.execute(stmt.order_by(*order).limit(limit + 1)).unique().scalars().all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_row_value(last, name), last.id])
    return Page(rows=rows, next_cursor=next_cursor, count=min(count, count_cap),
                count_capped=count > count_cap)


def _seek_after(model, column, descending, last_value, last_id):
    """Rows after (last_value, last_id) in page order; a NULL sort value cannot be compared, so NULL rows
    form their own block (after all values ascending, before them descending), ordered by id."""
    after_id = model.id < last_id if descending else model.id > last_id
    if last_value is None:
        rest_of_nulls = and_(column.is_(None), after_id)
        return or_(rest_of_nulls, column.is_not(None)) if descending else rest_of_nulls
    beyond = column < last_value if descending else column > last_value
    cond = or_(beyond, and_(column == last_value, after_id))
    return cond if descending or not getattr(column, "nullable", True) else or_(cond, column.is_(None))


def _coerce_cursor_value(column, value):
    import datetime as dt
    python_type = column.type.python_type
    if value is None:
        return None
    try:
        if python_type is dt.datetime:
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        if python_type is dt.date:
            return dt.date.fromisoformat(value)
        return python_type(value)
    except (ValueError, TypeError, NotImplementedError):
        raise ValidationError({"cursor": [str(_l("Invalid page cursor."))]}) from None


# ------------------------------------------------------------------ writes

def _check_owner(session, spec, owner_id, action):
    """Owner must exist, be active and lie inside the caller's scope for ``action``; returns the User."""
    scope = current_scope(session)
    owner = session.execute(select(User).where(User.id == owner_id)).scalar_one_or_none() if owner_id else None
    if owner_id and (owner is None or not owner.active):
        raise ValidationError({"owner_id": [str(_l("Unknown or inactive user."))]})
    if owner is None or not scope.may_assign(spec, owner, action):
        raise ValidationError({"owner_id": [str(_l("You may not assign records to this user."))]})
    return owner


def _check_references(session, spec, data, registry):
    """Every referenced record must be visible to the caller (no linking to what one cannot see)."""
    for field in spec.fields:
        if field.reference and data.get(field.name) is not None:
            target = registry[field.reference]
            if get_scoped(session, target.model, data[field.name]) is None:
                raise ValidationError({field.name: [str(_l("Not found."))]})


def _check_custom(session, spec, data, registry, record_id=None):
    """Custom values that need the database: visible references, unique values (core.customfields)."""
    if data.get("custom"):
        from core.customfields.checks import check_custom_values
        check_custom_values(session, spec, data["custom"], registry, record_id)


def _split_custom(changes: dict) -> dict:
    """Custom values are audited one by one, as ``custom.<key>``."""
    pair = changes.pop("custom", None)
    if pair:
        old, new = pair[0] or {}, pair[1] or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changes[f"custom.{key}"] = [old.get(key), new.get(key)]
    return changes


def _hidden_fields_given(spec, data, scope):
    hidden = spec.hidden_fields(scope) & set(data)
    if hidden:
        raise ValidationError({name: [str(_l("Unknown field."))] for name in hidden})


def _column_names(model):
    return {c.key for c in model.__mapper__.column_attrs}


def create(session, spec, data: dict, registry, commit: bool = True):
    """Create a record from schema-loaded ``data``; the default owner is the caller.

    ``commit=False`` only flushes: the caller commits several records as one transaction, and
    ``record_created`` is sent after that commit (never for a record a rollback removed).
    """
    scope = current_scope(session)
    require(session, spec.permission("create"))
    _hidden_fields_given(spec, data, scope)
    data = dict(data)
    data.pop("version", None)
    record = spec.model()
    if issubclass(spec.model, OwnedMixin):
        owner_id = data.pop("owner_id", None) or scope.user_id
        owner = _check_owner(session, spec, owner_id, "create")
        record.owner_id = owner.id
        record.department_id = owner.department_id
    _check_references(session, spec, data, registry)
    _check_custom(session, spec, data, registry)
    columns = _column_names(spec.model)
    for key, value in data.items():
        if key in columns and key not in ("id", "owner_id", "department_id"):
            setattr(record, key, value if not (key == "custom" and value is None) else {})
    if spec.on_save:
        spec.on_save(session, record, data)
    session.add(record)
    session.flush()
    if spec.audit:
        audit.record(session, spec.name, record.id, "create", scope.user_id, _split_custom(
                     {k: [None, v] for k, v in data.items() if k in columns and v not in (None, "", {})}))
    if not commit:
        signals.send_after_commit(session, signals.record_created, spec.name, record_id=record.id,
                                  user_id=scope.user_id)
        return record
    session.commit()
    signals.record_created.send(spec.name, record_id=record.id, user_id=scope.user_id)
    return record


def update(session, spec, record_id, data: dict, registry):
    """Apply ``data`` (partial) to a record the caller may edit; a stale ``version`` raises StaleVersion."""
    scope = current_scope(session)
    record = get(session, spec, record_id, action="edit")
    _hidden_fields_given(spec, data, scope)
    data = dict(data)
    expected = data.pop("version", None)
    if expected is not None and hasattr(record, "version") and expected != record.version:
        raise StaleVersion(record.version)
    changes = {}
    if issubclass(spec.model, OwnedMixin) and data.get("owner_id") not in (None, record.owner_id):
        owner = _check_owner(session, spec, data["owner_id"], "edit")
        changes["owner_id"] = [record.owner_id, owner.id]
        record.owner_id, record.department_id = owner.id, owner.department_id
    data.pop("owner_id", None)
    _check_references(session, spec, data, registry)
    _check_custom(session, spec, data, registry, record_id)
    columns = _column_names(spec.model) - {"id", "owner_id", "department_id"}
    for key, value in data.items():
        if key in columns:
            if key == "custom":
                value = {**(record.custom or {}), **(value or {})}
            old = getattr(record, key)
            if old != value:
                changes[key] = [old, value]
                setattr(record, key, value)
    if spec.on_save:
        spec.on_save(session, record, data)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        current = get_scoped(session, spec.model, record_id)
        raise StaleVersion(getattr(current, "version", None)) from None
    _split_custom(changes)
    if spec.audit and changes:
        audit.record(session, spec.name, record.id, "update", scope.user_id, changes)
    session.commit()
    if changes:
        signals.record_updated.send(spec.name, record_id=record.id, user_id=scope.user_id, changes=changes)
    return record


def delete(session, spec, record_id):
    """Soft delete into the recycle bin (hard delete for entities without soft delete)."""
    scope = current_scope(session)
    record = get(session, spec, record_id, action="delete")
    gx = session.info.get("guanxi")
    if gx is None:  # a session made outside Guanxi's factory: the app in context has the hooks
        from core.runtime import current
        gx = current()
    blockers = [str(message) for answer in gx.hook.record_delete_blockers(
        entity=spec.name, record=record, session=session) for message in answer or ()]
    if blockers:
        raise ValidationError({"_schema": blockers})
    if isinstance(record, SoftDeleteMixin):
        record.deleted_at = utcnow()
    else:
        session.delete(record)
    if spec.audit:
        audit.record(session, spec.name, record_id, "delete", scope.user_id)
    session.commit()
    signals.record_deleted.send(spec.name, record_id=record_id, user_id=scope.user_id)


def restore(session, spec, record_id):
    scope = current_scope(session)
    record = get(session, spec, record_id, action="delete", include_deleted=True)
    if record.deleted_at is None:
        return record
    record.deleted_at = None
    if spec.audit:
        audit.record(session, spec.name, record_id, "restore", scope.user_id)
    session.commit()
    signals.record_restored.send(spec.name, record_id=record_id, user_id=scope.user_id)
    return record


def transfer(session, spec, record_ids, new_owner_id, cascade=()):
    """Give records to another owner (single or bulk), audited; all-or-nothing.

    ``cascade``: ``(child_spec, foreign_key_name)`` pairs whose rows follow the parent (a customer's
    contacts). Each id must be editable by the caller, else nothing changes.
    """
    scope = current_scope(session)
    require(session, spec.permission("edit"))
    owner = _check_owner(session, spec, new_owner_id, "edit")
    records = [get(session, spec, rid, action="edit") for rid in dict.fromkeys(record_ids)]
    for record in records:
        if record.owner_id == owner.id:
            continue
        audit.record(session, spec.name, record.id, "transfer", scope.user_id,
                     {"owner_id": [record.owner_id, owner.id]})
        record.owner_id, record.department_id = owner.id, owner.department_id
        # Children of a record the caller may edit follow it, even ones he cannot see himself.
        with system_scope(session, f"transfer {spec.name} {record.id}: move children"):
            for child_spec, fk in cascade:
                children = session.execute(
                    select(child_spec.model).where(getattr(child_spec.model, fk) == record.id)
                    .execution_options(include_deleted=True)).scalars().all()
                for child in children:
                    child.owner_id, child.department_id = owner.id, owner.department_id
    session.commit()
    signals.owner_transferred.send(spec.name, record_ids=[r.id for r in records], user_id=scope.user_id,
                                   new_owner_id=owner.id)
    return records
