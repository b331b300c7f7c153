"""Answering a search: token ranges -> candidate ids -> records through the caller's scoped session."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select

from core.scope import current_scope
from core.search.models import SearchToken
from core.search.tokens import namespaced, query_prefixes, squeeze, upper_bound

TABLE = SearchToken.__table__
MAX_QUERY_LENGTH = 200
# One search reads at most MAX_CANDIDATES index entries per entity; the database keeps those the caller may
# see. A term matching more than that (a salesperson who sees none among them) is reported as capped: the
# user is asked to type more (``SearchGroup.capped``).
MAX_CANDIDATES = 20_000


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


def _provider(session, spec):
    from core.search.index import provider_for  # index imports this module's siblings only
    return provider_for(spec, session)


def _prefixes(session, provider, term):
    """The token prefixes ``term`` is looked up by, including the namespaces of restricted fields the
    session's user may see (a search must not reveal what a page hides)."""
    prefixes = query_prefixes((term or "")[:MAX_QUERY_LENGTH])
    if not prefixes:
        return []
    hidden = provider.spec.hidden_fields(current_scope(session))
    return prefixes + [namespaced(name, p) for name in sorted(provider.restricted() - hidden) for p in prefixes]


def _token_ranges(entity, prefixes):
    """One key range of (entity, token) per prefix. The entity is repeated inside each branch so that every
    branch is an index range on its own (SQLite's OR optimisation, PostgreSQL's BitmapOr, MariaDB's range
    union)."""
    return or_(*(and_(TABLE.c.entity == entity, TABLE.c.token >= p, TABLE.c.token < upper_bound(p))
                 for p in prefixes))


def _ids(entity, prefixes, limit=None):
    stmt = select(TABLE.c.record_id).where(_token_ranges(entity, prefixes))
    if limit is None:
        return stmt
    # MariaDB refuses LIMIT directly inside IN (...): a derived table around it is accepted everywhere.
    limited = stmt.limit(limit).subquery("search_candidates")
    return select(limited.c.record_id)


def matching_ids(session, spec, q: str, *, limit: int | None = None):
    """A select of the ids of ``spec``'s records whose indexed values match ``q`` (the global search's
    rules), for ``Model.id.in_(...)`` in an already scoped query; None when the index cannot answer
    (``q`` has fewer than two searchable characters, or ``spec`` has no search provider).

    Not scoped itself (the scoped query it is used in is) and may repeat an id; restricted fields the
    session's user lacks the permission for are not matched. ``limit`` caps the index entries read.
    """
    provider = _provider(session, spec)
    if provider is None:
        return None
    prefixes = _prefixes(session, provider, q)
    if not prefixes:
        return None
    return _ids(provider.entity, prefixes, limit)


def _too_many(session, entity, prefixes) -> bool:
    """Whether the term matches more index entries than one search reads (an index-only range count)."""
    probe = _ids(entity, prefixes, MAX_CANDIDATES + 1).subquery("probe")
    return session.execute(select(func.count()).select_from(probe)).scalar_one() > MAX_CANDIDATES


def matching_records(session, provider, prefixes, limit):
    """(up to ``limit`` visible records, capped flag): candidate ids from the index joined with the scoped
    entity query in one statement, so the database drops what the caller may not see before any record is
    fetched. When there are more than ``limit``, records whose value ends with the term exactly (the whole
    name typed) are fetched first, so they are not lost among the others."""
    model = provider.model
    candidates = _ids(provider.entity, prefixes, MAX_CANDIDATES)
    records = session.execute(select(model).where(model.id.in_(candidates)).limit(limit)).unique().scalars().all()
    if len(records) < limit:
        return records, _too_many(session, provider.entity, prefixes)
    exact = select(TABLE.c.record_id).where(TABLE.c.entity == provider.entity, TABLE.c.token.in_(prefixes))
    first = session.execute(select(model).where(model.id.in_(exact)).limit(limit)).unique().scalars().all()
    merged = list({r.id: r for r in [*first, *records]}.values())
    return merged[:limit], False


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
    if not query_prefixes((term or "")[:MAX_QUERY_LENGTH]):
        return []
    scope = current_scope(session)
    groups = []
    for provider in providers:
        spec = provider.spec
        if (entities and spec.name not in entities) or not scope.has(spec.permission("view")):
            continue
        hidden = spec.hidden_fields(scope)
        records, capped = matching_records(session, provider, _prefixes(session, provider, term), limit + 1)
        if not records and not capped:
            continue
        shown = sorted(records[:limit], key=_rank(spec, squeeze(term)))
        hits = [SearchHit(r, spec.title(r), _details(provider, r, hidden)) for r in shown]
        groups.append(SearchGroup(provider, hits, more=len(records) > limit or capped, capped=capped))
    return groups
