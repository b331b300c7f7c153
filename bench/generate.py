"""Generate a realistic bench database: a 50-user company and N customers with contacts and follow-ups.

    python bench/generate.py --url sqlite --customers 1000000 --reset
    python bench/generate.py --url pg --customers 1000000 --reset
    (``sqlite`` = /tmp/bench/guanxi_bench.db, ``pg`` = postgresql+psycopg://postgres@127.0.0.1:5432/guanxi_bench,
    or any SQLAlchemy URL)

The schema comes from the real migrations (``core.migrate.upgrade``) and the stock roles from
``core.seed.seed_roles``. Rows go in by bulk insert (SQLite executemany, PostgreSQL COPY) in batches of
10,000, one transaction per batch; the secondary indexes of the three big tables are dropped during the
load and rebuilt afterwards (same definitions as the models), then the planner statistics are refreshed.
Deterministic: the same ``--seed`` gives the same data.
"""
from __future__ import annotations

import argparse
import random
import sys
import time

from sqlalchemy import func, inspect, select, text

import common
import datagen
import vocab
from derived import derived_columns


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite", help="sqlite | pg | a SQLAlchemy URL")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--contacts-fraction", type=float, default=1.0,
                   help="share of customers that get 1-2 contacts (default: all)")
    p.add_argument("--followups-fraction", type=float, default=1.0,
                   help="share of customers that get 1-3 follow-ups (default: all)")
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    p.add_argument("--keep-indexes", action="store_true", help="insert with every index in place (slower)")
    p.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after the load")
    return p.parse_args(argv)


class Clock:
    """Prints each phase's duration as it ends."""

    def __init__(self):
        self.start = self.last = time.perf_counter()

    def lap(self, label: str, extra: str = ""):
        now = time.perf_counter()
        print(f"  {label:<28} {now - self.last:8.2f} s  {extra}", flush=True)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.start


# ---------------------------------------------------------------------- organisation

def build_org(gx, seed: int) -> list[tuple[int, int]]:
    """Departments and the 50 users; returns salespeople as (user_id, department_id) in Zipf rank order."""
    from core.models import Department, Role, User
    from core.passwords import hash_password

    password_hash = hash_password(common.BENCH_PASSWORD)
    rng = random.Random(seed)
    with gx.system_session("bench: build org") as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            raise SystemExit("the database already has users: use --reset")
        roles = {r.key: r for r in s.execute(select(Role)).scalars()}
        depts = {}
        for key, name, parent in vocab.DEPARTMENTS:
            dept = Department(name=name, parent_id=depts[parent].id if parent else None)
            s.add(dept)
            s.flush()
            dept.path = f"{depts[parent].path if parent else '/'}{dept.id}/"
            depts[key] = dept

        def user(login, name, dept_key, role_key):
            u = User(login=login, name=name, email=f"{login}@bench.example.com", department_id=depts[dept_key].id,
                     password_hash=password_hash, language="zh_CN")
            u.roles = [roles[role_key]]
            s.add(u)
            return u

        boss = user("boss", "老板 Boss", "hq", "boss")
        user("admin", "管理员 Admin", "it", "admin")
        user("service", "客服 Service", "service", "service")
        user("procurement", "采购 Procurement", "purchasing", "procurement")
        managers = {key: user(f"manager_{key}", f"{key} 经理 Manager", key, "sales_manager")
                    for key in vocab.SALES_DEPARTMENTS}
        reps = []
        for n, team in enumerate(vocab.REP_TEAMS, start=1):
            surname, given = rng.choice(vocab.SURNAMES), rng.choice(vocab.GIVEN_NAMES)
            reps.append(user(f"rep{n:02d}", f"{surname[0]}{given[0]} rep{n:02d}", team, "salesperson"))
        s.flush()
        for key, manager in managers.items():
            depts[key].manager_id = manager.id
        depts["hq"].manager_id = boss.id
        s.commit()
        # rep01 is the busiest owner; the other ranks are shuffled so the skew spreads over teams.
        tail = reps[1:]
        rng.shuffle(tail)
        return [(u.id, u.department_id) for u in [reps[0], *tail]]


# ---------------------------------------------------------------------- indexes

def secondary_indexes(engine, tables):
    """Non-primary, non-unique indexes of ``tables`` that exist in the database (model definitions)."""
    inspector = inspect(engine)
    found = []
    for table in tables:
        existing = {ix["name"] for ix in inspector.get_indexes(table.name)}
        found += [ix for ix in table.indexes if ix.name in existing and not ix.unique]
    return found


def drop_indexes(engine, indexes):
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)


def create_indexes(engine, indexes, clock):
    for ix in indexes:
        with engine.begin() as conn:
            ix.create(conn)
        clock.lap(f"index {ix.name}")


def finish(engine, tables, analyze: bool, clock):
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in tables:
                # ids were given explicitly: move the sequences past them
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
    if not analyze:
        return
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM ANALYZE {table.name}"))
    elif engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"ANALYZE TABLE {table.name}"))
    clock.lap("analyze")


# ---------------------------------------------------------------------- main

def with_derived(table, columns):
    """(table, all columns, rows -> rows with the derived columns appended)."""
    extra_columns, extra = derived_columns(table, columns)
    if not extra_columns:
        return table, columns, lambda rows: rows
    return table, columns + extra_columns, lambda rows: [row + extra(row) for row in rows]


def load(engine, gen, tables, total: int, batch: int, clock):
    from writers import writer_for

    shapes = [with_derived(table, columns) for table, columns in zip(
        tables, (datagen.CUSTOMER_COLUMNS, datagen.CONTACT_COLUMNS, datagen.FOLLOW_UP_COLUMNS))]
    counts = [0, 0, 0]
    with engine.connect() as conn:
        writer = writer_for(conn)
        for first in range(1, total + 1, batch):
            size = min(batch, total - first + 1)
            customers, contacts, follow_ups = gen.customers(first, size, total)
            with conn.begin():
                for (table, columns, extend), rows in zip(shapes, (customers, contacts, follow_ups)):
                    writer.write(table, columns, extend(rows))
            counts = [counts[0] + len(customers), counts[1] + len(contacts), counts[2] + len(follow_ups)]
            if (first - 1) // batch % 20 == 19 or first + size > total:
                rate = sum(counts) / (time.perf_counter() - clock.last)
                print(f"    {counts[0]:>9,} customers {counts[1]:>9,} contacts {counts[2]:>9,} follow-ups"
                      f"  ({rate:,.0f} rows/s)", flush=True)
    return counts


def main(argv=None):
    args = parse_args(argv)
    url = common.resolve_url(args.url)
    from core import migrate
    from core.models import Contact, Customer, FollowUp
    from core.seed import seed_roles

    print(f"generate: {args.customers:,} customers into {url}")
    clock = Clock()
    common.create_database(url, reset=args.reset)
    gx = common.make_runtime(url)
    migrate.upgrade(gx)
    with gx.system_session("bench: seed roles") as s:
        seed_roles(s, gx)
    clock.lap("migrate + seed roles")
    owners = build_org(gx, args.seed)
    clock.lap("org (17 departments, 50 users)")

    tables = [Customer.__table__, Contact.__table__, FollowUp.__table__]
    # MariaDB refuses to drop an index a foreign key needs: keep them there
    keep = args.keep_indexes or gx.engine.dialect.name not in ("sqlite", "postgresql")
    indexes = [] if keep else secondary_indexes(gx.engine, tables)
    drop_indexes(gx.engine, indexes)
    gen = datagen.Generator(args.seed, owners, args.contacts_fraction, args.followups_fraction)
    try:
        counts = load(gx.engine, gen, tables, args.customers, args.batch, clock)
        clock.lap("bulk insert", f"{sum(counts):,} rows")
    finally:
        create_indexes(gx.engine, indexes, clock)
    finish(gx.engine, tables, not args.no_analyze, clock)
    print(f"done in {clock.total():.1f} s: {counts[0]:,} customers, {counts[1]:,} contacts, "
          f"{counts[2]:,} follow-ups")
    gx.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
