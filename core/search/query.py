"""Answering a search: token ranges -> candidate ids -> records through the caller's scoped session."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from core.scope import current_scope
from core.search.models import SearchToken
from core.search.tokens import namespaced, query_prefixes, squeeze, upper_bound

TABLE = SearchToken.__table__
MAX_QUERY_LENGTH = 200
# Candidates are read from the token index in growing batches until enough of them are visible to the
# caller. A term matching more records than MAX_CANDIDATES stops there: a salesperson who sees few of them
# may then miss some and is asked to type more (``SearchGroup.capped``).
FIRST_BATCH, MAX_CANDIDATES = 64, 20_000


@dataclass
class SearchHit:
    """One record found, with the values shown under its title (hidden fields left out)."""

    record: object
    title: str
    details: list = field(default_factory=list)  # [(label, value)]


@dataclass
class SearchGroup:
    """The hits of one entity, best first; ``more`` when there are further matches, ``capped`` when the
    term matched too many records to check them all."""

    provider: object
    hits: list
    more: bool
    capped: bool = False

    @property
    def spec(self):
        return self.provider.spec


def _candidate_batches(session, entity, prefix):
    """Record ids with a token starting with ``prefix``, in index order (an exact match such as the whole
    name sorts before longer tokens, so it comes first), in growing batches; a plain range scan of the
    primary key on every database."""
    last, size, read = None, FIRST_BATCH, 0
    while read < MAX_CANDIDATES:
        stmt = select(TABLE.c.token, TABLE.c.record_id).where(
            TABLE.c.entity == entity, TABLE.c.token >= prefix, TABLE.c.token < upper_bound(prefix))
        if last is not None:
            stmt = stmt.where(or_(TABLE.c.token > last[0], and_(TABLE.c.token == last[0], TABLE.c.record_id > last[1])))
        rows = session.execute(stmt.order_by(TABLE.c.token, TABLE.c.record_id).limit(size)).all()
        read += len(rows)
        if rows:
            yield [row.record_id for row in rows]
        if len(rows) < size:
            return
        last, size = rows[-1], min(size * 4, MAX_CANDIDATES - read)
    raise _Capped


class _Capped(Exception):
    pass


def visible_ids(session, provider, prefixes, wanted):
    """Up to ``wanted`` ids of records the caller may view, best first; and whether the scan was capped.

    Visibility is decided by the scoped session (data scope, recycle bin), as on the list pages.
    """
    model = provider.model
    found, seen, capped = [], set(), False
    for prefix in prefixes:
        try:
            for batch in _candidate_batches(session, provider.entity, prefix):
                fresh = [rid for rid in dict.fromkeys(batch) if rid not in seen]
                seen.update(fresh)
                if fresh:
                    visible = set(session.execute(select(model.id).where(model.id.in_(fresh))).scalars())
                    found += [rid for rid in fresh if rid in visible]
                if len(found) >= wanted:
                    return found[:wanted], False
        except _Capped:
            capped = True
    return found, capped


def matching_records(session, provider, prefixes, limit):
    """(up to ``limit`` visible records in index order, capped flag)."""
    ids, capped = visible_ids(session, provider, prefixes, limit)
    if not ids:
        return [], capped
    model = provider.model
    by_id = {r.id: r for r in session.execute(select(model).where(model.id.in_(ids))).unique().scalars()}
    return [by_id[rid] for rid in ids if rid in by_id], capped


def _details(provider, record, hidden):
    spec = provider.spec
    details = []
    for name in provider.indexed_fields():
        if name == spec.title_attr or name in hidden:
            continue
        value = getattr(record, name, None)
        if value not in (None, ""):
            form_field = spec.field(name)
            details.append((form_field.label if form_field else name, str(value)))
    return details


def _rank(spec, query):
    """Sort key: the whole title typed first, then titles starting with it, then the rest (index order)."""
    def key(record):
        title = squeeze(spec.title(record))
        return 0 if title == query else 1 if title.startswith(query) else 2
    return key


def search(session, term: str, providers, limit: int = 10, entities=None) -> list[SearchGroup]:
    """Search every provider the caller may view (``entities``: only these names), ``limit`` hits each."""
    prefixes = query_prefixes((term or "")[:MAX_QUERY_LENGTH])
    if not prefixes:
        return []
    scope = current_scope(session)
    groups = []
    for provider in providers:
        spec = provider.spec
        if (entities and spec.name not in entities) or not scope.has(spec.permission("view")):
            continue
        hidden = spec.hidden_fields(scope)
        allowed = prefixes + [namespaced(name, p) for name in sorted(provider.restricted() - hidden) for p in prefixes]
        records, capped = matching_records(session, provider, allowed, limit + 1)
        if not records and not capped:
            continue
        shown = sorted(records[:limit], key=_rank(spec, squeeze(term)))
        hits = [SearchHit(r, spec.title(r), _details(provider, r, hidden)) for r in shown]
        groups.append(SearchGroup(provider, hits, more=len(records) > limit or capped, capped=capped))
    return groups
