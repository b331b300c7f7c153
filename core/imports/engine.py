"""The batch import path: validate rows in memory, write each batch with executemany in one transaction.

Per batch of ``BATCH_SIZE`` rows: one query for owners (all users, once per import), one scoped query per
referenced entity, one scoped query for duplicates, one per unique/reference custom field and one for tags
(``checks``), then one INSERT executemany for new records (``bulk``; their ids come back in order, see
``_execute_insert``), one for their audit entries (action "import"), one for their tag links and one for
the undo data; updates of matched records go through the ORM so their ``version`` is bumped (SECURITY.md
39). One commit and one ``records_imported`` signal per batch; the records the batches created enter the
search index after the last batch (``service.run``: status "indexing").

Per row the work stays in plain Python: cells are converted by per-field converters built once
(``fields.converter``: the schema field's own validators, no full ``Schema.load`` per row), duplicate keys
are normalised once, the dedupe key columns are computed here rather than by a per-row column default.

Scope and field permissions hold as in ``services.create``/``update``: hidden fields cannot be mapped,
owners must pass ``scope.may_assign``, references and duplicates are looked up through the scoped session,
matched records are updated only when the importer may edit them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError, missing
from sqlalchemy import func, insert, or_, select

from core import audit, signals
from core.db import OwnedMixin, utcnow
from core.dedupe.keys import KEY_SOURCES, first_key
from core.i18n import _l
from core.imports import bulk, checks
from core.imports.fields import (
    converter, entity_schema, importable_fields, load_default, loader_of, validate_mapping,
)
from core.imports.models import ImportChange
from core.models import AuditEntry, User
from core.normalize import email_key, phone_digits
from core.scope import current_scope

BATCH_SIZE = 2000
MATCH_FIELDS = ("name", "code", "phone", "mobile", "email")
DUPLICATE_MODES = ("skip", "update", "create")
NEW_TAG_MODES = ("create", "refuse")
ROW = "_row"


@dataclass
class RowResult:
    """One data row: its cells, the converted data and what happened (create/update/skip/fail)."""

    line: int
    cells: list
    data: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    action: str = "create"
    record_id: int | None = None
    existing: object = None
    changes: dict = field(default_factory=dict)

    def fail(self, name, message):
        self.errors.setdefault(name, []).append(str(message))
        self.action = "fail"


@dataclass
class BatchOutcome:
    rows: list
    created_ids: list = field(default_factory=list)
    updated_ids: list = field(default_factory=list)


def match_options(spec) -> list[str]:
    columns = {c.key for c in spec.model.__mapper__.column_attrs}
    return [name for name in MATCH_FIELDS if name in columns]


def _match_keys(name, value) -> set:
    """The forms under which ``value`` of match field ``name`` may be stored."""
    text = str(value).strip()
    if name == "email":
        return {text, email_key(text)}
    if name in ("phone", "mobile"):
        return {text, phone_digits(text)} - {""}
    return {text}


def _normal(name, value) -> str:
    if name == "email":
        return email_key(value)
    if name in ("phone", "mobile"):
        return phone_digits(value)
    return str(value).strip()


class Importer:
    """Turns rows into records for one import job, under the session's (the importer's) data scope."""

    def __init__(self, session, spec, registry, mapping: dict, options: dict, width: int, import_id=None):
        self.session = session
        self.spec = spec
        self.registry = registry
        self.scope = current_scope(session)
        self.import_id = import_id
        self.width = width
        self.schema = schema = entity_schema(spec, self.scope, session)
        self.loaders = schema.load_fields
        self.fields = importable_fields(spec, self.scope, schema)
        self.mapping = validate_mapping(mapping, self.fields, width)  # refuses hidden/unknown fields again
        self.converters = {name: converter(loader_of(schema, name)) for name in self.mapping.values()
                           if self.fields[name].kind == "value"}
        # per mapped column, computed once: (index, field, kind, converter, custom key or None)
        self.plan = [(index, name, self.fields[name].kind, self.converters.get(name),
                      name.split(".", 1)[1] if name.startswith("custom.") else None)
                     for index, name in self.mapping.items()]
        self.mode = options.get("duplicates") if options.get("duplicates") in DUPLICATE_MODES else "skip"
        match = options.get("match")
        self.match = match if match in match_options(spec) and match in self.mapping.values() else None
        self.owned = issubclass(spec.model, OwnedMixin)
        self._users = None
        self._may_assign = {}
        self.default_owner = self._default_owner(options.get("owner_id"))
        self.seen_keys = set()
        self.columns = {c.key: c for c in spec.model.__table__.columns}
        self.versioned = "version" in self.columns
        self._rules = None
        self._last_id = missing
        self.dedupe_keys = tuple(KEY_SOURCES.get(spec.model.__tablename__, {}).items())
        self.inserted = []  # the values of the records the last batch created (ids included)
        self.custom_checks = checks.CustomChecks(self)
        self.new_tags = options.get("new_tags") if options.get("new_tags") in NEW_TAG_MODES else "create"
        self.tags = checks.TagLinks(self, self._may_create_tags()) if checks.TAGS in self.mapping.values() else None

    def _may_create_tags(self) -> bool:
        """New tags only when the import allows it and the importer may create them: the permission
        ``core.tag.create`` where the application defines it, else the customer form's rule (whoever may
        save the record may add a new tag to it)."""
        if self.new_tags != "create":
            return False
        from core.runtime import current
        if checks.TAG_PERMISSION in current().permissions:
            return self.scope.has(checks.TAG_PERMISSION)
        return self.scope.has(self.spec.permission("create"))

    def custom_loader(self, name):
        return loader_of(self.schema, name) if name.startswith("custom.") else None

    def checkpoint(self):
        """What a failed batch must give back before it is retried row by row (in-file duplicate keys,
        unique values taken, tag ids created in the rolled-back transaction)."""
        return (set(self.seen_keys), self.custom_checks.checkpoint(),
                dict(self.tags.ids) if self.tags is not None else None)

    def restore(self, checkpoint):
        self.seen_keys, custom, tag_ids = checkpoint
        self.custom_checks.restore(custom)
        if self.tags is not None:
            self.tags.ids = tag_ids

    # ------------------------------------------------------------------ owners
    def users(self) -> dict:
        if self._users is None:
            self._users = {"id": {}, "key": {}}
            for user in self.session.execute(select(User)).scalars():
                self._users["id"][user.id] = user
                for key in (user.login, user.name, user.email):
                    if key:
                        self._users["key"].setdefault(key.strip().lower(), user)
        return self._users

    def may_assign(self, user, action="create") -> bool:
        key = (user.id, action)
        if key not in self._may_assign:
            self._may_assign[key] = bool(user.active) and self.scope.may_assign(self.spec, user, action)
        return self._may_assign[key]

    def _default_owner(self, owner_id):
        if not self.owned:
            return None
        users = self.users()["id"]
        owner = users.get(owner_id) if owner_id else users.get(self.scope.user_id)
        if owner is None or not self.may_assign(owner):
            raise ValidationError({"owner_id": [str(_l("You may not assign records to this user."))]})
        return owner

    def _owner_of(self, row: RowResult, raw):
        users = self.users()
        owner = users["key"].get(raw.strip().lower())
        if owner is None and raw.strip().isdigit():
            owner = users["id"].get(int(raw))
        if owner is None or not owner.active:
            row.fail("owner_id", _l("Unknown or inactive user."))
        elif not self.may_assign(owner, "create" if row.existing is None else "edit"):
            row.fail("owner_id", _l("You may not assign records to this user."))
        return owner

    # ------------------------------------------------------------------ rows
    def convert(self, line, cells) -> RowResult:
        row = RowResult(line=line, cells=cells)
        if len(cells) > self.width and any(cells[self.width:]):
            row.fail(ROW, _l("This row has %(n)d cells, the header only %(m)d.", n=len(cells), m=self.width))
            return row
        data, count = row.data, len(cells)
        for index, name, kind, convert, custom_key in self.plan:
            raw = cells[index] if index < count else ""
            if not raw:
                continue  # a blank cell: the default on create, unchanged on update
            if kind == "tags":
                checks.convert_tags(row, name, raw)
            elif kind != "value":
                data[name] = raw  # owners and references are resolved per batch
            else:
                try:
                    value = convert(raw)
                except ValidationError as err:
                    for message in _messages(err):
                        row.fail(name, message)
                    continue
                if custom_key is None:
                    data[name] = value
                else:
                    data.setdefault("custom", {})[custom_key] = value
        return row

    def prepare(self, rows: list[RowResult]):
        """Owners, references and duplicates for a batch (a handful of scoped queries)."""
        self._resolve_references(rows)
        self._find_duplicates(rows)
        for row in rows:
            if row.action == "fail":
                continue
            if self.owned:
                raw = row.data.pop("owner_id", None)
                owner = self._owner_of(row, raw) if raw else (
                    self.default_owner if row.existing is None else None)
                if owner is not None and row.action != "fail":
                    row.data["owner_id"] = owner
            if row.existing is None and row.action == "create":
                self._complete_for_create(row)
        self.custom_checks.check(rows)
        if self.tags is not None:
            self.tags.check(rows)

    def _create_rules(self):
        """``(name, custom key or None, required, loader)`` for the fields a new record needs something
        for: required ones and ones with a load default (the others are left to the column default)."""
        if self._rules is None:
            self._rules = []
            for name, target in self.fields.items():
                loader = loader_of(self.schema, name) if target.kind in ("value", "reference") else None
                if loader is None:
                    continue
                default = loader.load_default
                if not target.required and (default is missing or default is None):
                    continue  # None: "not given", the column's own default applies
                custom_key = name.split(".", 1)[1] if name.startswith("custom.") else None
                self._rules.append((name, custom_key, target.required, loader))
        return self._rules

    def _complete_for_create(self, row):
        """Required fields present, defaults applied (columns and custom fields) for a new record."""
        data = row.data
        for name, custom_key, required, loader in self._create_rules():
            if custom_key is None:
                if name in data:
                    continue
            elif custom_key in data.get("custom", ()):
                continue
            if required:
                row.fail(name, loader.error_messages["required"])
                continue
            default = load_default(loader)
            if default is missing or default is None:  # a callable default that gave nothing
                continue
            if custom_key is None:
                data[name] = default
            else:
                data.setdefault("custom", {})[custom_key] = default

    def _resolve_references(self, rows):
        for name, target_name in {n: f.reference for n, f in self.fields.items()
                                  if f.kind == "reference" and n in self.mapping.values()}.items():
            target = self.registry.get(target_name)
            raws = {row.data[name] for row in rows if row.action != "fail" and name in row.data}
            found = self._titles(target, raws) if target is not None and raws else {}
            for row in rows:
                raw = row.data.get(name)
                if raw is None or row.action == "fail":
                    continue
                ids = found.get(raw, ())
                if len(ids) == 1:
                    row.data[name] = next(iter(ids))
                else:
                    row.data.pop(name)
                    row.fail(name, _l("Not found.") if not ids else _l("Several records have this name."))

    def _titles(self, target, raws) -> dict:
        """``{raw text: {ids}}`` for ids and titles of records the importer can see (one query)."""
        model = target.model
        numbers = {int(r) for r in raws if r.isdigit() and len(r) < 19}
        title = getattr(model, target.title_attr, None) if target.title_attr in self.columns_of(model) else None
        conditions = [model.id.in_(numbers)] if numbers else []
        if title is not None:
            conditions.append(title.in_(raws))
        if not conditions:
            return {}
        columns = [model.id] + ([title] if title is not None else [])
        found: dict = {}
        for result in self.session.execute(select(*columns).where(or_(*conditions))):
            if result[0] in numbers:
                found.setdefault(str(result[0]), set()).add(result[0])
            if title is not None and result[1] in raws:
                found.setdefault(result[1], set()).add(result[0])
        return found

    @staticmethod
    def columns_of(model):
        return {c.key for c in model.__mapper__.column_attrs}

    def _find_duplicates(self, rows):
        if self.match is None or self.mode == "create":
            return
        model, name = self.spec.model, self.match
        candidates = set()
        for row in rows:
            if row.action != "fail" and row.data.get(name) is not None:
                candidates |= _match_keys(name, row.data[name])
        existing: dict = {}
        if candidates and self.last_existing_id() is not None:
            column = getattr(model, name)
            # Records this import created are not "existing" (in-file repeats are caught by seen_keys);
            # the id bound also keeps the lookup cheap while the table grows faster than its statistics.
            stmt = select(model.id, column).where(column.in_(candidates), model.id <= self.last_existing_id())
            for record_id, value in self.session.execute(stmt):
                existing.setdefault(_normal(name, value), []).append(record_id)
        for row in rows:
            value = row.data.get(name)
            if row.action == "fail" or value is None:
                continue
            key = _normal(name, value)
            ids = existing.get(key, [])
            if key in self.seen_keys:
                row.action = "skip"
                row.errors[ROW] = [str(_l("Same %(field)s as an earlier row of this file.",
                                          field=self.fields[name].label))]
            elif ids and self.mode == "skip":
                row.action, row.record_id = "skip", ids[0]
            elif len(ids) > 1:
                row.fail(name, _l("Several existing records match."))
            elif ids:
                row.action, row.record_id = "update", ids[0]
            self.seen_keys.add(key)
        self._load_for_update([r for r in rows if r.action == "update"])

    def last_existing_id(self):
        """The highest id visible before the first batch was written (None: no record at all)."""
        if self._last_id is missing:
            self._last_id = self.session.execute(select(func.max(self.spec.model.id))).scalar()
        return self._last_id

    def _load_for_update(self, rows):
        if not rows:
            return
        model = self.spec.model
        criteria = self.scope.criteria(self.spec, "edit")
        stmt = select(model).where(model.id.in_([r.record_id for r in rows])).execution_options(
            populate_existing=True)
        if criteria is not None:
            stmt = stmt.where(criteria)
        records = {r.id: r for r in self.session.execute(stmt).unique().scalars()}
        allowed = self.scope.has(self.spec.permission("edit"))
        for row in rows:
            row.existing = records.get(row.record_id) if allowed else None
            if row.existing is None:
                row.fail(ROW, _l("A matching record exists that you may not change."))

    # ------------------------------------------------------------------ writing
    def write(self, rows: list[RowResult]) -> BatchOutcome:
        """Insert the new records, update the matched ones, audit and keep undo data (no commit)."""
        outcome = BatchOutcome(rows=rows)
        self.inserted = []
        if self.tags is not None:
            self.tags.create_missing([r for r in rows if r.action in ("create", "update")])
        creates = [r for r in rows if r.action == "create"]
        if creates:
            outcome.created_ids = self._insert(creates)
        updates = [r for r in rows if r.action == "update"]
        if updates:
            outcome.updated_ids = self._update(updates)
        return outcome

    def _record_values(self, row, now) -> dict:
        values = {k: v for k, v in row.data.items() if k in self.columns and k != "owner_id"}
        if self.owned:
            owner = row.data["owner_id"]
            values["owner_id"], values["department_id"] = owner.id, owner.department_id
        if "custom" in self.columns and values.get("custom") is None:
            values["custom"] = _NO_CUSTOM  # one object for the batch: serialised once (``bulk``), never mutated
        if "created_at" in self.columns:
            values.setdefault("created_at", now)
        if "updated_at" in self.columns:
            values.setdefault("updated_at", now)
        if self.versioned:
            values["version"] = 1
        for key_column, (normaliser, sources) in self.dedupe_keys:
            # the same function as the column default, without SQLAlchemy's per-row default context
            values[key_column] = first_key(normaliser, [values.get(name) for name in sources])
        return values

    def _insert(self, rows) -> list[int]:
        """One executemany INSERT per batch; the new ids come back in parameter order (see ``_execute_insert``).
        Audit entries and undo data are written from the values in memory; ``self.inserted`` keeps them for
        the search index step after the batches."""
        now = utcnow()
        values = [self._record_values(row, now) for row in rows]
        keys = set().union(*values)
        for item in values:  # executemany needs the same keys in every row
            for key in keys - item.keys():
                item[key] = _column_default(self.columns[key])
        if self.spec.bulk_import:
            ids = self._execute_insert(values)
            self.inserted = values
        else:
            rows, values, ids = self._insert_with_rules(rows, values)
            self.inserted = []  # indexed by the search module's flush listener, like a form's record
            if not rows:
                return []
        for item, record_id in zip(values, ids):
            item["id"] = record_id
        if self.tags is not None:
            self.tags.link_created(rows, ids)
        for row in rows:
            row.record_id = None  # created; its id is in the audit trail and the undo data
        if self.spec.audit:
            audited = sorted(k for k in keys if k in self.fields or k == "custom")
            user_id, entity = self.scope.user_id, self.spec.name
            bulk.executemany(self.session, AuditEntry.__table__, [
                {"entity": entity, "record_id": item["id"], "action": "import", "user_id": user_id, "at": now,
                 "changes": _creation_changes(item, audited, row.data.get(checks.TAGS))}
                for item, row in zip(values, rows)])
        if self.import_id is not None and ids:
            # One undo row per batch for new records: their ids (all at version 1 right after the import).
            self.session.execute(insert(ImportChange.__table__).values(
                import_id=self.import_id, record_id=ids[0], action="create", old_values={"ids": ids},
                version=1 if self.versioned else None))
        return ids

    def _insert_with_rules(self, rows, values):
        """Entities whose save rules keep other rows in step (a project's number and stage timeline, an
        opportunity's stage history and won/lost reason): one record at a time through the ORM and
        ``EntitySpec.on_save``, as the form does. A rule's refusal fails its row; the others are written."""
        kept_rows, kept_values, records = [], [], []
        for row, item in zip(rows, values):
            record = self.spec.model(**{k: v for k, v in item.items() if k in self.columns})
            if self.spec.on_save is not None:
                try:
                    self.spec.on_save(self.session, record, {k: v for k, v in item.items()
                                                             if k not in ("owner_id", "department_id")})
                except ValidationError as err:
                    for message in _messages(err):
                        row.fail(ROW, message)
                    continue
            self.session.add(record)
            kept_rows.append(row)
            kept_values.append(item)
            records.append(record)
        self.session.flush()
        return kept_rows, kept_values, [record.id for record in records]

    def _execute_insert(self, values) -> list[int]:
        """INSERT ``values`` (executemany); returns their ids in the same order.

        * PostgreSQL: ids drawn from the table's sequence first, then ``bulk.executemany`` (pages of rows).
        * SQLite: a plain executemany, then ``max(id)``: SQLite gives each row ``max(rowid) + 1`` and this
          transaction holds the only write lock from the first INSERT to the commit, so the batch's ids are
          the consecutive range ending there (``RETURNING`` in order would cost one statement per row).
        * Others (MariaDB): one multi-row ``INSERT ... RETURNING`` per page, sorted back by a sentinel.
        """
        table = self.spec.model.__table__
        dialect = self.session.get_bind().dialect.name
        ids = self._allocate_ids(len(values)) if dialect == "postgresql" else None
        if ids is not None:
            for item, record_id in zip(values, ids):
                item["id"] = record_id
            bulk.executemany(self.session, table, values)
            return ids
        if dialect == "sqlite" and "id" not in values[0]:
            bulk.executemany(self.session, table, values)
            last = self.session.execute(select(func.max(table.c.id))).scalar()
            return list(range(last - len(values) + 1, last + 1))
        result = self.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
        return [r[0] for r in result]

    def _allocate_ids(self, count):
        """On PostgreSQL, ``count`` ids from the table's own sequence in one round trip (concurrent inserts
        elsewhere stay safe), so the batch's ids are known before the INSERT."""
        table = self.spec.model.__table__
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = self.session.execute(select(func.nextval(sequence)).select_from(
            func.generate_series(1, count))).scalars().all()
        return ids if len(ids) == count and all(ids) else None

    def _update(self, rows) -> list[int]:
        changed = []
        tag_objects = self.tags.objects(rows) if self.tags is not None else {}
        for row in rows:
            record, changes = row.existing, {}
            owner = row.data.get("owner_id")
            for key, value in row.data.items():
                if key == "owner_id" or key not in self.columns:
                    continue
                if key == "custom":
                    value = {**(record.custom or {}), **value}
                if getattr(record, key) != value:
                    changes[key] = [getattr(record, key), value]
                    setattr(record, key, value)
            added = [n for n in row.data.get(checks.TAGS, ()) if n not in {t.name for t in record.tags}]
            if added:  # an import adds tags, it never takes one away
                old = [t.name for t in record.tags]
                changes[checks.TAGS] = [old, old + added]
                record.tags = [*record.tags, *(tag_objects[n] for n in added)]
            if owner is not None and owner.id != record.owner_id:
                changes["owner_id"] = [record.owner_id, owner.id]
                changes["department_id"] = [record.department_id, owner.department_id]
                record.owner_id, record.department_id = owner.id, owner.department_id
            if not changes:
                row.action = "skip"
                row.errors[ROW] = [str(_l("Nothing to change."))]
                continue
            row.changes = changes
            changed.append(row)
        if not changed:
            return []
        self.session.flush()  # one UPDATE per record, each bumping ``version``
        user_id = self.scope.user_id
        if self.spec.audit:
            for row in changed:
                audit.record(self.session, self.spec.name, row.record_id, "import", user_id,
                             {k: v for k, v in row.changes.items() if k != "department_id"})
        self.session.flush()  # listeners (duplicate keys, search) may touch the records again: versions settle
        if self.import_id is not None:
            self.session.execute(insert(ImportChange.__table__), [
                {"import_id": self.import_id, "record_id": row.record_id, "action": "update",
                 "old_values": audit.jsonable({k: v[0] for k, v in row.changes.items()}),
                 "version": getattr(row.existing, "version", None)} for row in changed])
        return [row.record_id for row in changed]

    def process(self, batch) -> BatchOutcome:
        """Convert, check and (unless every row failed) write one batch of ``(line, cells)``."""
        rows = [self.convert(line, cells) for line, cells in batch]
        self.prepare(rows)
        return self.write(rows)

    def after_commit(self, outcome: BatchOutcome):
        """The ``records_imported`` signal, once per committed batch."""
        ids = outcome.created_ids + outcome.updated_ids
        if not ids:
            return
        signals.records_imported.send(self.spec.name, import_id=self.import_id, user_id=self.scope.user_id,
                                      created_ids=outcome.created_ids, updated_ids=outcome.updated_ids)


def reindex(session, spec, ids, **options):
    """Update the global search index for ``ids`` inside the caller's transaction (``options``: see
    ``core.search.reindex``)."""
    if not ids:
        return
    try:
        from core.search import reindex as search_reindex
    except ImportError:  # global search not installed: nothing to keep current
        return
    search_reindex(session, spec, ids, **options)


_PLAIN = frozenset({str, int, bool, float})
_NO_CUSTOM: dict = {}


def _creation_changes(values, keys, tags=None) -> dict:
    """The audit ``changes`` of a created record: ``{field: [None, value]}`` for its non-empty fields."""
    changes = {checks.TAGS: [None, tags]} if tags else {}
    for key in keys:
        value = values[key]
        if value is None or value == "" or (type(value) is dict and not value):
            continue
        changes[key] = [None, value if type(value) in _PLAIN else audit.jsonable(value)]
    return changes


def _column_default(column):
    default = column.default
    if default is None:
        return None
    if getattr(default, "is_scalar", False):
        return default.arg
    return None  # callable defaults may need the INSERT's context: an explicit NULL is the honest answer


def _messages(err: ValidationError) -> list[str]:
    messages = err.messages
    if isinstance(messages, dict):
        return [str(m) for value in messages.values() for m in (value if isinstance(value, list) else [value])]
    return [str(m) for m in (messages if isinstance(messages, list) else [messages])]
