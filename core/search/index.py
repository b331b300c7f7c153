"""Keeping the search index in step with the records.

* Every ORM write of an indexed entity (services, plugins, merges, test factories …) is reindexed by a
  session ``after_flush`` listener, in the same transaction as the write: the index can never disagree with
  committed data, and a rollback rolls it back too.
* Bulk paths: ``deferred_indexing(session)`` suspends the per-flush indexing for a block and indexes what
  it wrote in one batch at the end; writes that bypass the ORM (Core executemany) call ``index_records``
  with the rows they wrote, or ``reindex`` with their ids.
* ``reindex_entity`` rebuilds one entity from scratch (``guanxi search reindex``, the demo, the bench).
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from contextlib import contextmanager

from sqlalchemy import Column, MetaData, Table, delete, event, insert, inspect, select

from core.db import GuanxiSession
from core.scope import system_scope
from core.search import bulk
from core.search.models import SearchToken
from core.search.providers import SearchProvider, default_provider
from core.search.tokens import namespaced, tokens_for

log = logging.getLogger("guanxi.search")

CHUNK = 500  # records per SELECT of records (reindex's default)
DELETE_CHUNK = 5000  # ids per DELETE ... IN (...)

# Filled by ``install``: per engine (one per app), model class -> provider — several apps may live in one
# process (tests, ``app_with``) with different modules, and each provider is bound to its app's EntitySpec.
# ``_BY_MODEL`` answers for sessions on an engine no app installed (the last provider installed wins).
_BY_ENGINE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_BY_MODEL: dict[type, SearchProvider] = {}
_BY_APP: dict[int, list[SearchProvider]] = {}
TABLE = SearchToken.__table__


def install(gx) -> list[SearchProvider]:
    """Collect the providers of ``gx`` (hook ``search_providers`` plus a default one for every other entity
    with ``search_fields``) and start indexing their writes."""
    providers, seen = [], set()
    for contribution in gx.hook.search_providers():
        for provider in contribution or []:
            if not isinstance(provider, SearchProvider):
                log.warning("search provider %r is not a core.search.SearchProvider: ignored", provider)
                continue
            spec = gx.entities.get(provider.entity)
            if spec is None or spec.name in seen:
                log.warning("search provider for %r: unknown or duplicate entity, ignored", provider.entity)
                continue
            providers.append(provider.bind(spec))
            seen.add(spec.name)
    for spec in gx.entities:
        if spec.name not in seen and spec.search_fields:
            providers.append(default_provider(spec))
    by_model = {provider.model: provider for provider in providers}
    _BY_MODEL.update(by_model)
    _BY_ENGINE[gx.engine] = by_model
    _BY_APP[id(gx)] = providers
    return providers


def providers(gx) -> list[SearchProvider]:
    """The installed providers of ``gx`` (installing them on first use, e.g. in scripts)."""
    found = _BY_APP.get(id(gx))
    return found if found is not None else install(gx)


def _by_model(session) -> dict:
    try:
        return _BY_ENGINE.get(session.get_bind(), _BY_MODEL)
    except Exception:  # an unbound session: nothing of ours to index
        return _BY_MODEL


def provider_for(spec_or_model, session=None) -> SearchProvider | None:
    model = getattr(spec_or_model, "model", spec_or_model)
    return (_by_model(session) if session is not None else _BY_MODEL).get(model)


# ------------------------------------------------------------------------------------------ writing tokens

def record_tokens(provider: SearchProvider, record, custom_keys=()) -> set[str]:
    tokens = set()
    for kind, value, namespace in provider.values(record, custom_keys):
        found = tokens_for(kind, value)
        tokens |= {namespaced(namespace, t) for t in found} if namespace else found
    return tokens


def _write(connection, entity: str, remove_ids, tokens: dict):
    remove_ids = list(remove_ids)
    for start in range(0, len(remove_ids), DELETE_CHUNK):
        connection.execute(delete(TABLE).where(TABLE.c.entity == entity,
                                               TABLE.c.record_id.in_(remove_ids[start:start + DELETE_CHUNK])))
    bulk.insert_tokens(connection, TABLE, entity, tokens)


class _Values:
    """Attribute access over a mapping (a dict written with Core executemany): missing keys are None."""

    __slots__ = ("_values",)

    def __init__(self, values):
        self._values = values

    def __getattr__(self, name):
        return self._values.get(name)


def _tokens(session, provider, records) -> dict[int, set[str]]:
    """``{record id: its tokens}`` of ``records``."""
    if not records:
        return {}
    keys = provider.custom_keys(session)
    found: dict[int, set[str]] = {}
    for record in records:
        tokens = record_tokens(provider, record, keys)
        if record.id in found:
            found[record.id] |= tokens
        else:
            found[record.id] = tokens
    return found


def _count(tokens: dict) -> int:
    return sum(map(len, tokens.values()))


def _columns(session, provider):
    model = provider.model
    names = ["id", *provider.indexed_fields()]
    if provider.custom_keys(session):
        names.append("custom")
    if hasattr(model, "deleted_at"):
        names.append("deleted_at")
    return [getattr(model, name) for name in dict.fromkeys(names)]


def _load(session, provider, where):
    """Rows (only the indexed columns) of every record matching ``where``, deleted ones included."""
    with system_scope(session, f"search index: read {provider.entity}"):
        stmt = select(*_columns(session, provider)).where(where).execution_options(include_deleted=True)
        return session.execute(stmt).all()


def _live(rows):
    return [row for row in rows if getattr(row, "deleted_at", None) is None]


def _provider(session, spec):
    if isinstance(spec, str):
        return next((p for p in _by_model(session).values() if p.entity == spec), None)
    return provider_for(spec, session)


def index_records(session, spec, records, *, new: bool = False) -> int:
    """Write the tokens of ``records`` of ``spec`` (an EntitySpec or its name) in one executemany.

    For writes that bypassed the ORM (Core ``insert()`` executemany, e.g. an import batch). ``records``: ORM
    objects, Rows or mappings carrying ``id`` and the indexed fields (missing ones count as empty); records
    with ``deleted_at`` set get no tokens. Their old tokens are deleted first unless ``new`` says they have
    none. Runs in the caller's transaction; returns the number of tokens written (0 without a provider).
    """
    provider = _provider(session, spec)
    if provider is None:
        return 0
    records = [_Values(r) if isinstance(r, Mapping) else r for r in records]
    if not records:
        return 0
    tokens = _tokens(session, provider, _live(records))
    _write(session.connection(), provider.entity, [] if new else [r.id for r in records], tokens)
    return _count(tokens)


def reindex(session, spec, record_ids, *, new_ids=(), chunk=CHUNK) -> int:
    """Rebuild the tokens of ``record_ids`` of ``spec`` from the database (after a bulk write that bypassed
    the ORM). Ids in ``new_ids`` are known to have no tokens yet (no DELETE for them). Records are read and
    their tokens written ``chunk`` at a time (bulk callers pass thousands: fewer, larger sorted writes).
    Runs in the caller's transaction; the caller commits. Returns the tokens written."""
    provider = _provider(session, spec)
    if provider is None:
        return 0
    ids = list(dict.fromkeys(record_ids))
    fresh = set(new_ids)
    written = 0
    size = chunk
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        tokens = _tokens(session, provider, _live(_load(session, provider, provider.model.id.in_(chunk))))
        _write(session.connection(), provider.entity, [i for i in chunk if i not in fresh], tokens)
        written += _count(tokens)
    return written


# ------------------------------------------------------------------------------------- deferred indexing

_DEFERRED = "search_deferred"  # session.info key: {"depth": n, "pending": {entity: (provider, new, changed)}}


@contextmanager
def deferred_indexing(session):
    """Suspend the per-flush indexing of ``session`` for the block; index what it wrote in bulk at the end
    (or at a ``commit()`` inside the block, before it commits). Nothing is indexed if the block raises."""
    state = session.info.setdefault(_DEFERRED, {"depth": 0, "pending": {}})
    state["depth"] += 1
    try:
        yield
    except BaseException:
        state["depth"] -= 1
        if state["depth"] == 0:
            session.info.pop(_DEFERRED, None)
        raise
    state["depth"] -= 1
    if state["depth"] == 0:
        try:
            session.flush()
            _index_deferred(session)
        finally:
            session.info.pop(_DEFERRED, None)


def _index_deferred(session):
    state = session.info.get(_DEFERRED)
    if not state or not state["pending"]:
        return
    pending, state["pending"] = state["pending"], {}
    for provider, new, changed in pending.values():
        reindex(session, provider.spec, [*new, *changed], new_ids=new - changed)


@event.listens_for(GuanxiSession, "before_commit")
def _index_before_commit(session):
    if session.info.get(_DEFERRED):
        session.flush()
        _index_deferred(session)


def _staging_table():
    """A temporary table without indexes: tokens are appended there, then copied in key order."""
    return Table("search_token_staging", MetaData(), Column("token", TABLE.c.token.type),
                 Column("entity", TABLE.c.entity.type), Column("record_id", TABLE.c.record_id.type),
                 prefixes=["TEMPORARY"])


def reindex_entity(session, spec, batch=5000, progress=None) -> int:
    """Drop and rebuild every token of ``spec`` (``guanxi search reindex``); one transaction.

    Inserting tens of millions of tokens in random key order into the primary key is I/O bound, so the
    tokens go to an unindexed temporary table first and are then copied in key order. No DDL touches
    ``search_token`` itself: searches keep working (on the old tokens until the commit).
    ``progress(done_records)`` is called after each batch of ``batch`` records. Returns the tokens written.
    """
    provider = provider_for(spec, session)
    if provider is None:
        return 0
    connection = session.connection()
    staging = _staging_table()
    staging.create(connection)
    try:
        written = _stage_tokens(session, provider, staging, batch, progress)
        connection.execute(delete(TABLE).where(TABLE.c.entity == provider.entity))
        columns = [staging.c.entity, staging.c.token, staging.c.record_id]  # the key's order
        connection.execute(insert(TABLE).from_select(["entity", "token", "record_id"],
                                                     select(*columns).order_by(*columns)))
    finally:
        staging.drop(connection)
    session.commit()
    return written


def _stage_tokens(session, provider, staging, batch, progress) -> int:
    model = provider.model
    last_id, done, written = 0, 0, 0
    while True:
        with system_scope(session, f"search index: rebuild {provider.entity}"):
            stmt = (select(*_columns(session, provider)).where(model.id > last_id).order_by(model.id).limit(batch)
                    .execution_options(include_deleted=True))
            rows = session.execute(stmt).all()
        if not rows:
            return written
        tokens = _tokens(session, provider, _live(rows))
        bulk.insert_tokens(session.connection(), staging, provider.entity, tokens)
        last_id, done, written = rows[-1].id, done + len(rows), written + _count(tokens)
        if progress:
            progress(done)


# ------------------------------------------------------------------------------------- the ORM listener

def _changed(record, provider) -> bool:
    state = inspect(record)
    return any(state.attrs[name].history.has_changes() for name in provider.watched_attributes()
               if name in state.attrs)


@event.listens_for(GuanxiSession, "after_flush")
def _index_flushed_records(session, _flush_context):
    """Reindex every indexed record this flush inserted, changed or deleted (same transaction)."""
    if not _BY_MODEL:
        return
    by_model = _by_model(session)
    if session.info.get(_DEFERRED):
        _defer_flushed_records(session, by_model)
        return
    pending: dict[str, tuple[SearchProvider, set, list]] = {}

    def slot(provider):
        return pending.setdefault(provider.entity, (provider, set(), []))

    for record in session.new:
        provider = by_model.get(type(record))
        if provider is not None and getattr(record, "deleted_at", None) is None:
            slot(provider)[2].append(record)
    for record in session.dirty:
        provider = by_model.get(type(record))
        if provider is not None and _changed(record, provider):
            _provider, removed, fresh = slot(provider)
            removed.add(record.id)
            if getattr(record, "deleted_at", None) is None:
                fresh.append(record)
    for record in session.deleted:
        provider = by_model.get(type(record))
        if provider is not None:
            slot(provider)[1].add(record.id)
    connection = session.connection() if pending else None
    for provider, removed, fresh in pending.values():
        _write(connection, provider.entity, removed, _tokens(session, provider, fresh))


def _defer_flushed_records(session, by_model):
    """Inside ``deferred_indexing``: only note which records need (re)indexing."""
    pending = session.info[_DEFERRED]["pending"]

    def slot(provider):
        return pending.setdefault(provider.entity, (provider, set(), set()))

    for record in session.new:
        provider = by_model.get(type(record))
        if provider is not None:
            slot(provider)[1].add(record.id)
    for record in session.dirty:
        provider = by_model.get(type(record))
        if provider is not None and _changed(record, provider):
            slot(provider)[2].add(record.id)
    for record in session.deleted:
        provider = by_model.get(type(record))
        if provider is not None:
            slot(provider)[2].add(record.id)
