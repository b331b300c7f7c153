"""Server-side timings of the customer list and search through the real Flask app, per role.

    python bench/timings.py --url sqlite            # /tmp/bench/guanxi_bench.db (made by generate.py)
    python bench/timings.py --url pg --repeat 50 --explain

For the busiest salesperson (own scope), his manager (team scope) and the boss (all), it times with
``app.test_client()`` and a real server-side login session:

* list page 1, the deep page (page 10,000, or the last page when the scope has fewer), a filtered list
  (``f_status=intention``), the list searched (``?q=`` a Chinese word, then a phone fragment), the recycle
  bin and the global search page (``/search?q=``) when it exists;
* the same list/search cases at the service level (``services.list_query`` + ``services.page`` in a scoped
  session: database + ORM, no HTTP, no template), which separates query cost from page cost;
* in the same run, the baselines: a raw SQL keyset query of 50 rows and a bare Flask page rendering a
  50-row table (``bare_app.py``). Ratios to them survive a noisy machine; absolute times do not.

``--profile /r/customer/`` profiles one page instead (cProfile, first role of ``--roles``).
``--explain`` prints the plan of every customer SELECT a page runs (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL). Results also go to ``/tmp/bench/timings-<database>.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
from urllib.parse import urlencode

from sqlalchemy import func, select, text

import common
import explain
from bare_app import KEYSET_SQL, create_bare_app

PAGE_SIZE = 50
TARGET_MS = {"list": 50.0, "search": 100.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite", help="sqlite | pg | a SQLAlchemy URL")
    p.add_argument("--repeat", type=int, default=50, help="measured requests per case")
    p.add_argument("--slow-repeat", type=int, default=10,
                   help="requests per case when one request takes longer than --slow-ms")
    p.add_argument("--slow-ms", type=float, default=500.0)
    p.add_argument("--deep-page", type=int, default=10_000)
    p.add_argument("--roles", default="salesperson,salesperson_small,manager,manager_small,boss")
    p.add_argument("--q-cn", default="华信", help="Chinese search term (a trade name in ~1%% of names)")
    p.add_argument("--q-phone", default=None, help="phone fragment (default: 7 digits of a real phone)")
    p.add_argument("--explain", action="store_true", help="print the plan of each page's customer SELECTs")
    p.add_argument("--no-pages", action="store_true", help="service-level timings only")
    p.add_argument("--cases", default="", help="only the cases whose name contains one of these "
                                               "comma-separated words (e.g. 'search ?q' or 'list page 1')")
    p.add_argument("--profile", metavar="PATH", default=None,
                   help="instead of timing: cProfile 50 requests of PATH (e.g. /r/customer/) as the first "
                        "role and print the 40 costliest functions (cumulative) and the 25 by own time")
    return p.parse_args(argv)


def profile_page(app, user, path, requests=50):
    """Where one page's time goes, end to end through the app (stdlib cProfile; the profiler roughly
    doubles the time of call-heavy code such as template rendering: read the shares, not the ms)."""
    import cProfile
    import pstats
    client = common.login_client(app, user.id)
    for _ in range(5):  # first requests compile templates and fill caches
        assert client.get(path).status_code == 200
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"profile of {requests} requests of {path} as {user.login} (times are totals over all requests)")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


# ---------------------------------------------------------------------- scoped sessions and cursors

def scoped_session(gx, user_id):
    """A session with ``user_id``'s data scope, like a request of that user gets."""
    from core.models import User
    from core.scope import build_user_scope, set_scope

    session = gx.session_factory()
    with gx.system_session("bench: load user") as s:
        user = s.execute(select(User).where(User.id == user_id)).scalar_one()
        scope = build_user_scope(s, user, gx.entities, gx.hook)
    set_scope(session, scope)
    return session


def deep_cursor(gx, user_id, wanted_page):
    """(page number, cursor) of page ``wanted_page`` of the default list (-id), or of the last page.

    Built from the database once (an OFFSET to find the last id of the previous page) so that the
    timed request is the keyset request a user reaches by clicking "next" 9,999 times.
    """
    from core import services
    spec = gx.entities["customer"]
    session = scoped_session(gx, user_id)
    try:
        stmt = services.list_query(session, spec)
        total = session.execute(select(func.count()).select_from(
            stmt.with_only_columns(spec.model.id).subquery())).scalar_one()
        page_no = max(1, min(wanted_page, math.ceil(total / PAGE_SIZE)))
        if page_no == 1:
            return 1, None, total
        last_id = session.execute(stmt.with_only_columns(spec.model.id).order_by(spec.model.id.desc())
                                  .offset((page_no - 1) * PAGE_SIZE - 1).limit(1)).scalar_one()
        return page_no, services.encode_cursor([last_id, last_id]), total
    finally:
        session.close()


def search_index_note(gx) -> str:
    """The global search page reads the ``search_token`` index when core has one: say if it is empty."""
    from sqlalchemy import inspect
    if "search_token" not in inspect(gx.engine).get_table_names():
        return "no search_token table: /search scans the entity tables"
    with gx.engine.connect() as conn:
        tokens = conn.execute(text("SELECT count(*) FROM search_token")).scalar_one()
    if not tokens:
        return ("search_token is EMPTY: /search finds nothing and its timings mean little "
                "(build it: python bench/search_bench.py --url ... --build)")
    return f"search_token holds {tokens:,} tokens"


def phone_fragment(gx, user_id) -> str:
    """Seven digits from the middle of a mobile number of one of the salesperson's customers."""
    with gx.engine.connect() as conn:
        phone = conn.execute(text(
            "SELECT phone FROM customer WHERE owner_id = :o AND phone LIKE '1%' ORDER BY id LIMIT 1 OFFSET 100"),
            {"o": user_id}).scalar_one()
    return phone[3:10]


# ---------------------------------------------------------------------- the cases

def page_cases(cursor, q_cn, q_phone, has_search_page):
    """(name, kind, path) of the timed pages."""
    cases = [
        ("list page 1", "list", "/r/customer/"),
        ("list deep page", "list", "/r/customer/?" + urlencode({"cursor": cursor}) if cursor else "/r/customer/"),
        ("list f_status=intention", "list", "/r/customer/?f_status=intention"),
        ("list ?q=Chinese", "search", "/r/customer/?" + urlencode({"q": q_cn})),
        ("list ?q=phone", "search", "/r/customer/?" + urlencode({"q": q_phone})),
    ]
    cases.append(("recycle bin", "list", "/recycle-bin"))
    if has_search_page:
        cases += [("search ?q=Chinese", "search", "/search?" + urlencode({"q": q_cn})),
                  ("search ?q=phone", "search", "/search?" + urlencode({"q": q_phone}))]
    return cases


def service_cases(cursor, q_cn, q_phone):
    """(name, kind, list_query kwargs, page kwargs) timed without HTTP and templates."""
    return [
        ("svc list page 1", "list", {}, {}),
        ("svc list deep page", "list", {}, {"cursor": cursor}),
        ("svc list f_status=intention", "list", {"filters": {"status": "intention"}}, {}),
        ("svc list ?q=Chinese", "search", {"search": q_cn}, {}),
        ("svc list ?q=phone", "search", {"search": q_phone}, {}),
    ]


class Runner:
    """Times a callable with fewer repeats when it is slow, and prints a result line."""

    def __init__(self, args, reference_ms):
        self.args = args
        self.reference_ms = reference_ms
        self.results = []

    def wanted(self, name) -> bool:
        words = [w for w in self.args.cases.split(",") if w]
        return not words or any(w in name for w in words)

    def run(self, role, name, kind, fn):
        if role != "baseline" and not self.wanted(name):
            return None, None
        try:
            start = common.time_calls(fn, repeat=1, warmup=1)[0]
        except Exception as exc:  # a page that is not built yet must not stop the other measurements
            print(f"  {role:<11} {name:<30} FAILED: {exc!r:.200}", flush=True)
            self.results.append({"role": role, "case": name, "kind": kind, "error": repr(exc)[:200]})
            return None, None
        repeat = self.args.repeat if start < self.args.slow_ms else self.args.slow_repeat
        samples = common.time_calls(fn, repeat=repeat, warmup=1)
        p50, p95 = common.percentiles(samples)
        target = TARGET_MS.get(kind)
        verdict = "" if target is None else ("ok" if p95 <= target else f"OVER {target:.0f} ms")
        ratio = p50 / self.reference_ms if self.reference_ms else 0
        load = os.getloadavg()[0]  # the machine is shared: every figure carries the load it was taken under
        print(f"  {role:<11} {name:<30} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  "
              f"x{ratio:6.1f} bare  n={repeat:<3} load {load:4.1f} {verdict}", flush=True)
        self.results.append({"role": role, "case": name, "kind": kind, "p50_ms": round(p50, 2),
                             "p95_ms": round(p95, 2), "n": repeat, "x_bare_p50": round(ratio, 2),
                             "load": round(load, 1)})
        return p50, p95


def time_baselines(url, gx, runner):
    """Raw SQL keyset query of 50 rows and the bare Flask 50-row page, in this same run."""
    with gx.engine.connect() as conn:
        before = conn.execute(text("SELECT max(id) FROM customer")).scalar_one() // 2

    def raw_sql():
        with gx.engine.connect() as conn:
            rows = conn.execute(KEYSET_SQL, {"before": before}).all()
            assert len(rows) == PAGE_SIZE

    bare = create_bare_app(url)
    bare_client = bare.test_client()

    def bare_page():
        response = bare_client.get(f"/?before={before}")
        assert response.status_code == 200

    raw = runner.run("baseline", "raw SQL keyset 50 rows", None, raw_sql)
    page = runner.run("baseline", "bare Flask 50-row page", None, bare_page)
    bare.extensions["bench_engine"].dispose()
    return raw, page


def time_role(app, gx, role, user, args, runner, q_phone):
    from core import services
    page_no, cursor, total = deep_cursor(gx, user.id, args.deep_page)
    print(f"  {role} = {user.login}: {total:,} visible customers; deep page = page {page_no:,}")
    spec = gx.entities["customer"]
    count_cap = int(gx.settings.get("COUNT_CAP", 10000))  # the list page's cap (GUANXI_COUNT_CAP)
    session = scoped_session(gx, user.id)
    for name, kind, query_kwargs, page_kwargs in service_cases(cursor, args.q_cn, q_phone):
        def call(query_kwargs=query_kwargs, page_kwargs=page_kwargs):
            result = services.page(session, spec, services.list_query(session, spec, **query_kwargs),
                                   limit=PAGE_SIZE, count_cap=count_cap, **page_kwargs)
            session.rollback()  # a request ends its transaction; so does each call here
            return result
        runner.run(role, name, kind, call)
    session.close()
    if args.no_pages:
        return
    client = common.login_client(app, user.id)
    has_search = "web.search" in app.view_functions
    for name, kind, path in page_cases(cursor, args.q_cn, q_phone, has_search):
        def get(path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        runner.run(role, name, kind, get)
        if args.explain and runner.wanted(name):
            with explain.captured_sql(gx.engine) as statements:
                client.get(path)
            for sql, params in explain.entity_selects(statements):
                print(f"    -- {' '.join(sql.split())[:400]}\n{explain.plan(gx.engine, sql, params)}")


def main(argv=None):
    args = parse_args(argv)
    url = common.resolve_url(args.url)
    app = None if args.no_pages else common.make_app(url)
    gx = app.extensions["guanxi"] if app else common.make_runtime(url)
    app = app or None
    with gx.engine.connect() as conn:
        customers = conn.execute(text("SELECT count(*) FROM customer")).scalar_one()
    print(f"timings: {customers:,} customers on {gx.engine.dialect.name} ({url}), "
          f"{platform.machine()} python {platform.python_version()}, {dt.datetime.now():%Y-%m-%d %H:%M}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    users = common.bench_users(gx)
    q_phone = args.q_phone or phone_fragment(gx, users["salesperson"].id)
    print(f"search terms: {args.q_cn!r} and {q_phone!r}; {search_index_note(gx)}; "
          f"COUNT_CAP {gx.settings.get('COUNT_CAP')}")
    if args.profile:
        profile_page(app, users[args.roles.split(",")[0]], args.profile)
        return 0
    runner = Runner(args, reference_ms=None)
    _, (bare_p50, _) = time_baselines(url, gx, runner)
    runner.reference_ms = bare_p50
    for role in args.roles.split(","):
        time_role(app, gx, role, users[role], args, runner, q_phone)
    out = common.BENCH_DIR / f"timings-{gx.engine.dialect.name}.json"
    out.write_text(json.dumps({"database": gx.engine.dialect.name, "customers": customers,
                               "date": dt.datetime.now().isoformat(timespec="minutes"),
                               "load_average_end": round(os.getloadavg()[0], 1),
                               "results": runner.results}, ensure_ascii=False, indent=1))
    print(f"results written to {out}; load average now {os.getloadavg()[0]:.1f}")
    gx.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
