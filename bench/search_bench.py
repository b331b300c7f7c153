"""Global search at scale: build the index over a generated database, then time searches of mixed kinds.

    python bench/generate.py --url sqlite --customers 1000000 --reset      # the data (bench engineer's script)
    python bench/search_bench.py --url sqlite --build                      # index it, then time the searches
    python bench/search_bench.py --url pg --build

``--build`` migrates the database to head (``core.migrate.upgrade``: a database generated before migration
0004 gets the (entity, token, record_id) key), then rebuilds the ``search_token`` index of every searchable
entity with ``core.search.reindex_entity`` (what ``guanxi search reindex`` runs) and reports time, token
count and size. The timings call the search
service (``core.search.search``: every entity the user may view, 10 hits each, through his scoped session)
for 200 queries — Chinese substrings, full pinyin, pinyin initials, phones typed in several ways, e-mails
and Latin words, drawn from the data — as the busiest salesperson, his manager, the boss, and the
salesperson and manager with the fewest customers (their scope filters out the most candidates). A second
run times the search *page* through the Flask test client for the boss, and a bare query (one customer by
primary key) gives a baseline for the machine.

Also timed per role: the list page's ``?q=`` filter as the list helper uses it (the scoped customer query
``WHERE id IN matching_ids(q) ORDER BY id DESC LIMIT 50`` and a count capped at 1,000), and, as raw SQL on a
bare connection, the index lookup alone (first 11 ids of the token range) and the old ``ILIKE`` scan the
``?q=`` filter replaces (boss scope, on the first queries only: it takes seconds).
"""
from __future__ import annotations

import argparse
import random
import sys
import time

from sqlalchemy import func, select, text

import common


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite", help="sqlite | pg | a SQLAlchemy URL")
    p.add_argument("--build", action="store_true", help="(re)build the search index first")
    p.add_argument("--entities", default="", help="comma-separated entities to (re)build; default: all")
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


# ---------------------------------------------------------------------- the index

def index_size(engine) -> str:
    with engine.connect() as conn:
        dialect = engine.dialect.name
        if dialect == "postgresql":
            size = conn.execute(text("SELECT pg_total_relation_size('search_token')")).scalar_one()
        elif dialect == "sqlite":
            try:
                size = conn.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name IN "
                                         "('search_token', 'ix_search_token_record')")).scalar_one()
            except Exception:  # dbstat not compiled in
                return "n/a"
        else:
            size = conn.execute(text("SELECT data_length + index_length FROM information_schema.tables "
                                     "WHERE table_schema = DATABASE() AND table_name = 'search_token'")).scalar_one()
    return f"{(size or 0) / 2**20:,.0f} MiB"


def tune_sqlite_for_bulk(engine):
    """A 1 GiB page cache: the token B-tree takes its rows in random key order, and SQLite's default 2 MiB
    cache turns that into random I/O (8x slower at 1M customers). Only for this process."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _cache(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA cache_size=-1048576")
        cursor.close()
    engine.dispose()  # reconnect with the pragma


def _progress(start):
    def report(done):
        if done % 200_000 < 10_000:
            print(f"    {done:>10,} records  {time.perf_counter() - start:8.1f} s", flush=True)
    return report


def build(gx, entities):
    from core import migrate, search
    start = time.perf_counter()
    migrate.upgrade(gx)
    print(f"migrate to head {time.perf_counter() - start:.1f} s")
    print("build the index")
    if gx.engine.dialect.name == "sqlite":
        tune_sqlite_for_bulk(gx.engine)
    total_start = time.perf_counter()
    for provider in search.providers(gx):
        if entities and provider.entity not in entities:
            continue
        start = time.perf_counter()
        with gx.system_session(f"bench: index {provider.entity}") as session:
            tokens = search.reindex_entity(session, provider.spec, batch=10_000, progress=_progress(start))
        seconds = time.perf_counter() - start
        print(f"  {provider.entity:<10} {tokens:>12,} tokens  {seconds:8.1f} s", flush=True)
    if gx.engine.dialect.name == "postgresql":
        with gx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE search_token"))
    elif gx.engine.dialect.name == "sqlite":
        with gx.engine.begin() as conn:
            conn.execute(text("ANALYZE search_token"))
    else:
        with gx.engine.begin() as conn:
            conn.execute(text("ANALYZE TABLE search_token"))
    print(f"  total {time.perf_counter() - total_start:.1f} s, index size {index_size(gx.engine)}")


# ---------------------------------------------------------------------- the queries

def _cjk_part(rng, name):
    chars = [ch for ch in name if "\u4e00" <= ch <= "\u9fff"]
    if len(chars) < 2:
        return None
    size = rng.randint(2, min(4, len(chars)))
    start = rng.randrange(len(chars) - size + 1)
    return "".join(chars[start:start + size])


def _pinyin_part(rng, name, initials):
    from pypinyin import lazy_pinyin
    chars = [ch for ch in name if "\u4e00" <= ch <= "\u9fff"]
    if len(chars) < 2:
        return None
    size = rng.randint(2, min(4, len(chars)))
    start = rng.randrange(len(chars) - size + 1)
    syllables = lazy_pinyin("".join(chars[start:start + size]))
    return "".join(s[0] for s in syllables) if initials else "".join(syllables)


def _phone_variant(rng, phone):
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 7:
        return None
    if len(digits) == 11 and digits.startswith("1"):
        return rng.choice([digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"+86 {digits[:3]}-{digits[3:7]}-"
                           f"{digits[7:]}", f"+86{digits}", digits[3:], f"{digits[3:7]}-{digits[7:]}"])
    return rng.choice([phone, digits[-8:], f"{digits[-8:-4]} {digits[-4:]}"])


def make_queries(gx, count, seed):
    """``count`` (kind, query) pairs drawn from random customers and contacts of the database."""
    from core.models import Contact, Customer
    rng = random.Random(seed)
    with gx.system_session("bench: sample queries") as s:
        top_customer = s.execute(select(func.max(Customer.id))).scalar_one()
        top_contact = s.execute(select(func.max(Contact.id))).scalar_one()
        customers = s.execute(select(Customer.name, Customer.phone, Customer.email).where(
            Customer.id.in_([rng.randint(1, top_customer) for _ in range(count * 2)]))).all()
        contacts = s.execute(select(Contact.name, Contact.mobile, Contact.email).where(
            Contact.id.in_([rng.randint(1, top_contact) for _ in range(count * 2)]))).all()
    makers = [
        ("chinese substring", lambda r: _cjk_part(rng, r[0])),
        ("full pinyin", lambda r: _pinyin_part(rng, r[0], initials=False)),
        ("pinyin initials", lambda r: _pinyin_part(rng, r[0], initials=True)),
        ("phone", lambda r: _phone_variant(rng, r[1])),
        ("e-mail", lambda r: r[2] if rng.random() < 0.5 else (r[2] or "").split("@")[0]),
        ("latin word", lambda r: next((w for w in r[0].split() if w.isascii() and len(w) > 2), None)),
    ]
    rows = customers + contacts
    queries = []
    while len(queries) < count:
        kind, maker = makers[len(queries) % len(makers)]
        query = maker(rng.choice(rows))
        if query and len(query) >= 2:
            queries.append((kind, query))
    return queries


# ---------------------------------------------------------------------- timings

def user_session(gx, user):
    from core.scope import build_user_scope
    session = gx.new_session()
    session.info["scope"] = build_user_scope(session, user, gx.entities, gx.hook)
    return session


def time_searches(gx, user, queries):
    from core import search
    providers = search.providers(gx)
    session = user_session(gx, user)
    per_kind, samples, hits = {}, [], 0
    try:
        for _kind, query in queries[:5]:
            search.search(session, query, providers)  # warm up
        for kind, query in queries:
            start = time.perf_counter()
            groups = search.search(session, query, providers)
            elapsed = (time.perf_counter() - start) * 1000
            session.rollback()  # drop the identity map, as a request's session would be
            samples.append(elapsed)
            per_kind.setdefault(kind, []).append(elapsed)
            hits += sum(len(g.hits) for g in groups)
    finally:
        session.close()
    return samples, per_kind, hits


def time_list_filter(gx, user, queries):
    """The customer list's ``?q=`` through ``matching_ids``: page (50 newest matches) and capped count."""
    from core.models import Customer
    from core.search import matching_ids
    spec = gx.entities["customer"]
    session = user_session(gx, user)
    pages, counts = [], []
    try:
        for _kind, query in queries:
            ids = matching_ids(session, spec, query)
            start = time.perf_counter()
            session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))
                            .order_by(Customer.id.desc()).limit(50)).all()
            middle = time.perf_counter()
            capped = select(Customer.id).where(Customer.id.in_(ids)).limit(1001).subquery()
            session.execute(select(func.count()).select_from(capped)).scalar_one()
            end = time.perf_counter()
            session.rollback()
            pages.append((middle - start) * 1000)
            counts.append((end - middle) * 1000)
    finally:
        session.close()
    return pages, counts


def raw_sql(gx, queries, ilike_queries=5):
    """Raw SQL on a bare connection: the token range lookup alone, and the old ILIKE scan (boss scope)."""
    from core.search.tokens import query_prefixes, upper_bound
    lookup = text("SELECT record_id FROM search_token WHERE entity = 'customer' AND token >= :low "
                  "AND token < :high LIMIT 11")
    ilike = text("SELECT id, name FROM customer WHERE deleted_at IS NULL AND (lower(name) LIKE :p OR "
                 "lower(phone) LIKE :p OR lower(email) LIKE :p OR lower(code) LIKE :p) ORDER BY id DESC LIMIT 50")
    index_ms, ilike_ms = [], []
    with gx.engine.connect() as conn:
        for _kind, query in queries:
            prefix = query_prefixes(query)[0]
            start = time.perf_counter()
            conn.execute(lookup, {"low": prefix, "high": upper_bound(prefix)}).all()
            index_ms.append((time.perf_counter() - start) * 1000)
        for _kind, query in queries[:ilike_queries]:
            start = time.perf_counter()
            conn.execute(ilike, {"p": f"%{query.lower()}%"}).all()
            ilike_ms.append((time.perf_counter() - start) * 1000)
    return index_ms, ilike_ms


def time_page(app, user, queries):
    from urllib.parse import quote
    client = common.login_client(app, user.id)
    return common.time_calls(lambda q=iter(queries * 2): client.get(f"/search?q={quote(next(q)[1])}"),
                             repeat=min(len(queries), 100))


def baseline(gx):
    from core.models import Customer
    with gx.system_session("bench: baseline") as s:
        return common.percentiles(common.time_calls(
            lambda: s.execute(select(Customer.id, Customer.name).where(Customer.id == 4242)).first(), 200))


def main(argv=None):
    args = parse_args(argv)
    url = common.resolve_url(args.url)
    app = common.make_app(url)
    gx = app.extensions["guanxi"]
    from core.models import Customer
    with gx.system_session("bench: count") as s:
        total = s.execute(select(func.count()).select_from(Customer)).scalar_one()
    print(f"search bench on {gx.engine.dialect.name}: {total:,} customers")
    if args.build:
        build(gx, set(filter(None, args.entities.split(","))))
    queries = make_queries(gx, args.searches, args.seed)
    print(f"{len(queries)} searches: " + ", ".join(sorted({k for k, _q in queries})))
    b50, b95 = baseline(gx)
    print(f"  baseline: customer by primary key  p50 {b50:6.2f} ms  p95 {b95:6.2f} ms")
    index_ms, ilike_ms = raw_sql(gx, queries)
    print("  raw SQL: token range lookup (11 ids)  p50 {:6.2f} ms  p95 {:6.2f} ms".format(*common.percentiles(index_ms)))
    print("  raw SQL: old ILIKE scan, boss, {} queries  p50 {:6.0f} ms  p95 {:6.0f} ms".format(
        len(ilike_ms), *common.percentiles(ilike_ms)), flush=True)
    for role, user in common.bench_users(gx).items():
        samples, per_kind, hits = time_searches(gx, user, queries)
        p50, p95 = common.percentiles(samples)
        worst = ", ".join(f"{k} {common.percentiles(v)[1]:.0f}" for k, v in sorted(per_kind.items()))
        print(f"  {role:<18} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(samples):6.1f} ms  "
              f"hits {hits:>5}  (p95 by kind: {worst})", flush=True)
        pages, counts = time_list_filter(gx, user, queries)
        print("  {:<18} list ?q= page p50 {:6.1f} ms  p95 {:6.1f} ms   count<=1000 p50 {:6.1f} ms  p95 {:6.1f} ms"
              .format(role, *common.percentiles(pages), *common.percentiles(counts)), flush=True)
    boss = common.bench_users(gx)["boss"]
    p50, p95 = common.percentiles(time_page(app, boss, queries))
    print(f"  search page (HTTP, boss) p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    gx.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
