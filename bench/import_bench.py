"""Import speed: a generated customer CSV (Chinese and English names, phones, e-mails) through the real
import path (upload check, mapping, the batch run with audit, undo data and search index upkeep).

    python bench/import_bench.py [--rows 100000] [--db sqlite|<SQLAlchemy URL of a server>]

A fresh database is created for the run and dropped afterwards. Prints rows/s of the upload check, of the
batches (rows validated, written, audited, committed: status "running") and of the whole job until "done"
(the search index step included: status "indexing"). Target: ≥ 20,000 customer rows per second for a
100,000-row file.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = ["华东", "星辰", "东方", "远航", "金桥", "和信", "恒通", "Acme", "Globex", "Initech", "Umbrella", "Hooli"]
SUFFIXES = ["贸易有限公司", "科技有限公司", "实业", "Co., Ltd.", "Trading", "集团"]
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京"]
STATUSES = ["potential", "intention", "closed"]


def write_csv(path, rows: int, seed=7):
    import csv
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["名称", "电话", "E-mail", "城市", "状态", "级别", "行业", "地址"])
        for i in range(rows):
            name = f"{rnd.choice(WORDS)}{rnd.choice(SURNAMES)}{i}{rnd.choice(SUFFIXES)}"
            writer.writerow([name, f"1{rnd.randint(3, 9)}{rnd.randint(0, 999999999):09d}", f"c{i}@example.com",
                             rnd.choice(CITIES), rnd.choice(STATUSES), rnd.choice("ABCD"), "制造业",
                             f"{rnd.choice(CITIES)}市{rnd.randint(1, 999)}号"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default=os.environ.get("GUANXI_TEST_DATABASE_URL", "sqlite"))
    parser.add_argument("--modules", default="*",
                        help="plugin modules to enable (default: every installed one, as in production)")
    parser.add_argument("--sqlite-cache-mb", type=int, default=0,
                        help="SQLite page cache for the run (PRAGMA cache_size; default: SQLite's own 2 MB)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the import run to FILE")
    parser.add_argument("--no-search-index", action="store_true",
                        help="skip the search index step after the batches (measures the import path alone)")
    args = parser.parse_args()
    import core.imports.service
    index_step = core.imports.service._index
    indexing = {}

    def timed_index(*a, **k):  # when the batches end and the index step starts
        indexing["start"] = time.perf_counter(), time.process_time()
        if not args.no_search_index:
            index_step(*a, **k)
    core.imports.service._index = timed_index

    from core.imports import service
    from core.imports.models import ImportJob  # noqa: F401  (models registered)
    from core.passwords import hash_password
    from core.scope import build_user_scope, system_scope
    from core.testing import Org, create_test_database
    from core.testing.pytest_plugin import make_test_app

    tmp = Path(tempfile.mkdtemp(prefix="guanxi-import-bench-"))
    url, drop = create_test_database(None if args.db == "sqlite" else args.db, tmp)
    app = make_test_app(url, tmp / "instance", modules=args.modules)
    gx = app.extensions["guanxi"]
    if args.sqlite_cache_mb and gx.engine.dialect.name == "sqlite":
        from sqlalchemy import event

        gx.engine.dispose()  # new connections get the pragma

        @event.listens_for(gx.engine, "connect")
        def _cache_size(dbapi_conn, _record):
            dbapi_conn.execute(f"PRAGMA cache_size=-{args.sqlite_cache_mb * 1024}")
    try:
        org = Org(gx, hash_password("Bench-Password-For-Guanxi-2024"))
        csv_path = tmp / "customers.csv"
        write_csv(csv_path, args.rows)
        spec = gx.entities["customer"]
        with app.test_request_context("/"):
            from sqlalchemy import select

            from core.models import User
            from core.scope import set_scope
            session = gx.new_session()
            with system_scope(session, "bench: load the importer"):
                user = session.execute(select(User).where(User.id == org.manager_east.id)).scalar_one()
                user_scope = build_user_scope(session, user, gx.entities, gx.hook)
            set_scope(session, user_scope)
            started = time.perf_counter()
            with open(csv_path, "rb") as fh:
                job = service.start(session, spec, fh, "customers.csv", app.config)
            checked = time.perf_counter()
            mapping = {str(i): name for i, name in enumerate(
                ["name", "phone", "email", "city", "status", "level", "industry", "address"])}
            service.configure(session, spec, gx.entities, job, mapping,
                              {"duplicates": "skip", "match": "email", "owner_id": org.rep_east.id})
            job.status = "queued"
            session.commit()
            profiler = None
            if args.profile:
                import cProfile
                profiler = cProfile.Profile()
                profiler.enable()
            load_before = os.getloadavg()[0]
            run_start, cpu_start = time.perf_counter(), time.process_time()
            service.run(session, spec, gx.entities, job, app.config)
            done, cpu_done = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            assert job.created == args.rows, (job.created, job.failed, job.message)
            assert job.status == "done" and not job.message, (job.status, job.message)
            if not args.no_search_index:
                from core.search import providers, search
                last = f"c{args.rows - 1}@example.com"  # the file's last row: found by the search box
                hits = [h for g in search(session, last, providers(gx)) if g.spec.name == "customer" for h in g.hits]
                assert [h.record.email for h in hits] == [last], hits
            session.close()
        engine = gx.engine.dialect.name
        batches_end, batches_cpu = indexing.get("start", (done, cpu_done))
        print(f"database: {engine}  rows: {args.rows}  search index: "
              f"{'skipped' if args.no_search_index else 'indexed after the batches'}")
        print(f"upload check (encoding, limits, row count): {checked - started:.2f} s "
              f"({args.rows / (checked - started):,.0f} rows/s)")
        print(f"batches (validate, insert, audit, undo data, commit): {batches_end - run_start:.2f} s "
              f"-> {args.rows / (batches_end - run_start):,.0f} rows/s "
              f"({args.rows / (batches_cpu - cpu_start):,.0f} per CPU-second)")
        if not args.no_search_index:
            print(f"search index step: {done - batches_end:.2f} s -> {args.rows / (done - batches_end):,.0f} rows/s "
                  f"({args.rows / (cpu_done - batches_cpu):,.0f} per CPU-second)")
        print(f"import job until done: {done - run_start:.2f} s -> {args.rows / (done - run_start):,.0f} rows/s")
        print(f"  of which this process's CPU time: {cpu_done - cpu_start:.2f} s "
              f"-> {args.rows / (cpu_done - cpu_start):,.0f} rows per CPU-second "
              f"(what an idle machine approaches; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs)")
        print(f"end to end (upload check included): {args.rows / (done - started):,.0f} rows/s")
    finally:
        gx.engine.dispose()
        drop()


if __name__ == "__main__":
    main()
