"""Per-batch checks and writes an import needs beyond a row's own cells: unique and reference custom fields,
and tags. Each costs one query per batch (values collected from the whole batch, looked up with ``IN``).

* Unique custom fields are unique across ALL records (as ``core.customfields.checks`` does for a form save):
  a value already stored fails the row, and so does a value an earlier row of the same file took.
* Reference custom fields (user, customer, contact …) must name something the importer can see.
* Tags: a "tags" cell holds names separated by , ， 、 ; ； — existing tags are linked; missing ones are
  created only when the import allows it (option "new_tags") and the importer may create the records (the
  rule of the customer form, which adds new tags on save); otherwise the row fails naming them.
"""
from __future__ import annotations

import re

from sqlalchemy import insert, select

from core.customfields.indexes import filter_expression
from core.i18n import _l
from core.models import Tag
from core.scope import system_scope

TAG_SEPARATORS = re.compile(r"[,，、;；]")
TAG_LENGTH = 50
TAGS = "tags"
TAG_PERMISSION = "core.tag.create"  # honoured once the application defines it


# ------------------------------------------------------------------ custom fields

class CustomChecks:
    """The unique and reference custom fields mapped in an import, checked batch by batch."""

    def __init__(self, importer):
        self.importer = importer
        self.unique, self.references = [], []
        for name in importer.mapping.values():
            loader = importer.custom_loader(name)
            fdef, ftype = getattr(loader, "fdef", None), getattr(loader, "ftype", None)
            if fdef is None or ftype is None:
                continue
            if ftype.reference:
                self.references.append((name, fdef.key, ftype.reference))
            elif fdef.unique and ftype.uniqueable:
                self.unique.append((name, fdef, ftype))
        self.seen = {fdef.key: {} for _name, fdef, _ftype in self.unique}  # value -> line of the file

    def checkpoint(self):
        return {key: dict(values) for key, values in self.seen.items()}

    def restore(self, checkpoint):
        self.seen = checkpoint

    def check(self, rows):
        live = [row for row in rows if row.action in ("create", "update")]
        for name, key, reference in self.references:
            self._check_reference(live, name, key, reference)
        for name, fdef, ftype in self.unique:
            self._check_unique([row for row in live if row.action != "fail"], name, fdef, ftype)

    def _check_reference(self, rows, name, key, reference):
        wanted = {row.data["custom"][key] for row in rows if row.action != "fail"
                  and row.data.get("custom", {}).get(key) is not None}
        if not wanted:
            return
        visible = self._visible_ids(reference, wanted)
        for row in rows:
            value = row.data.get("custom", {}).get(key)
            if value is not None and row.action != "fail" and value not in visible:
                row.fail(name, _l("Not found."))

    def _visible_ids(self, reference, ids) -> set:
        from core.models import User
        session = self.importer.session
        if reference == "user":
            return set(session.execute(select(User.id).where(User.id.in_(ids), User.active.is_(True))).scalars())
        target = self.importer.registry.get(reference)
        if target is None:
            return set()
        # the importer's scoped session: nobody links to a record he cannot see
        return set(session.execute(select(target.model.id).where(target.model.id.in_(ids))).scalars())

    def _check_unique(self, rows, name, fdef, ftype):
        """In file order: a value stored on another record fails the row; so does a value an earlier,
        accepted row of the file took (a refused row takes nothing)."""
        seen = self.seen[fdef.key]
        values = []
        for row in rows:
            value = row.data.get("custom", {}).get(fdef.key)
            if value is not None:
                values.append((row, _comparable(ftype, fdef, value)))
        if not values:
            return
        used = self._used(fdef, ftype, list({compare for _row, compare in values}))
        for row, compare in values:
            if compare in seen:
                row.fail(name, _l("The same value as row %(line)d of this file.", line=seen[compare]))
            elif used.get(compare, set()) - {row.record_id if row.action == "update" else None}:
                row.fail(name, _l("This value is already used."))
            else:
                seen[compare] = row.line

    def _used(self, fdef, ftype, values) -> dict:
        """``{value: {record ids}}`` among ALL records (other users', deleted ones too), one query."""
        session, model = self.importer.session, self.importer.spec.model
        expression = filter_expression(model, fdef, ftype, session.get_bind().dialect.name)
        stmt = select(model.id, expression).where(expression.in_(values)).execution_options(include_deleted=True)
        found: dict = {}
        with system_scope(session, f"import: unique check {self.importer.spec.name}.{fdef.key}"):
            for record_id, value in session.execute(stmt):
                if value is not None:
                    found.setdefault(_comparable(ftype, fdef, value), set()).add(record_id)
        return found


def _comparable(ftype, fdef, value):
    """The value as the unique check compares it (numbers typed as the SQL expression answers them)."""
    if ftype.storage in ("integer", "decimal"):
        return ftype.parse_filter(str(value), fdef)
    return value


# ------------------------------------------------------------------ tags

def split_tags(raw: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in TAG_SEPARATORS.split(raw) if t.strip()))


def convert_tags(row, name, raw):
    names = split_tags(raw)
    too_long = [n for n in names if len(n) > TAG_LENGTH]
    if too_long:
        row.fail(name, _l("A tag has at most %(n)d characters: %(tags)s", n=TAG_LENGTH, tags="、".join(too_long)))
    elif names:
        row.data[name] = names


class TagLinks:
    """Resolves tag names per batch and writes the links of created records (Core executemany)."""

    def __init__(self, importer, may_create: bool):
        self.importer = importer
        self.may_create = may_create
        self.ids: dict[str, int] = {}  # every tag name met so far -> id (created ones included)

    def check(self, rows):
        """Look the batch's names up (one query); rows naming missing tags fail unless they may be created."""
        wanted = {n for row in rows if row.action in ("create", "update") for n in row.data.get(TAGS, ())}
        unknown = wanted - self.ids.keys()
        if unknown:
            session = self.importer.session
            found = session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(unknown))).all()
            self.ids.update(dict(found))
        if self.may_create:
            return
        for row in rows:
            missing = [n for n in row.data.get(TAGS, ()) if n not in self.ids]
            if missing and row.action in ("create", "update"):
                row.fail(TAGS, _l("Unknown tags (you may not create tags in this import): %(tags)s",
                                  tags="、".join(missing)))

    def create_missing(self, rows):
        missing = list(dict.fromkeys(n for row in rows for n in row.data.get(TAGS, ()) if n not in self.ids))
        if not missing:
            return
        session = self.importer.session
        session.execute(insert(Tag.__table__), [{"name": n} for n in missing])
        self.ids.update(dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(missing))).all()))

    def link_created(self, rows, ids):
        """The ``customer_tag`` rows of records just inserted (``ids`` in the order of ``rows``)."""
        from core.imports import bulk
        table = self.importer.spec.model.tags.property.secondary
        local, remote = _link_columns(table, self.importer.spec.model.__table__)
        links = [{local: record_id, remote: self.ids[n]}
                 for row, record_id in zip(rows, ids) for n in row.data.get(TAGS, ())]
        bulk.executemany(self.importer.session, table, links)

    def objects(self, rows) -> dict:
        """``{name: Tag}`` for the tags the batch's updated rows name (one query)."""
        names = {n for row in rows for n in row.data.get(TAGS, ())}
        ids = [self.ids[n] for n in names if n in self.ids]
        if not ids:
            return {}
        return {t.name: t for t in self.importer.session.execute(select(Tag).where(Tag.id.in_(ids))).scalars()}


def _link_columns(table, owner_table):
    """(column pointing at the record, column pointing at the tag) of the association table."""
    local = remote = None
    for column in table.columns:
        for fk in column.foreign_keys:
            if fk.column.table is owner_table:
                local = column.key
            elif fk.column.table is Tag.__table__:
                remote = column.key
    return local, remote


def taggable(spec, schema) -> bool:
    """Whether the entity has tags an import may set: a ``tags`` relationship to ``Tag`` in its schema."""
    relationship = getattr(spec.model, "__mapper__", None) and spec.model.__mapper__.relationships.get(TAGS)
    return bool(relationship is not None and relationship.mapper.class_ is Tag and TAGS in schema.load_fields
                and relationship.secondary is not None)
