"""Quote-to-cash at retail size: import the UCI Online Retail file (541,909 lines) into a fresh database, then
time the orders and payments list pages at that size.

    python bench/retail_import.py --url sqlite        # /tmp/bench/guanxi_retail.db
    python bench/retail_import.py --url pg            # postgresql+psycopg://postgres@127.0.0.1:5432/guanxi_retail
    python bench/retail_import.py --url mysql         # mysql+pymysql://root@127.0.0.1:3306/guanxi_retail
    python bench/retail_import.py --url pg --no-import --repeat 100 --explain    # pages again, same data

Steps: (1) drop and recreate the database, migrate (``core.migrate.upgrade``), seed the stock roles and the
50-user bench company (``generate.build_org``); (2) ``plugins.orders.retail_import.import_retail`` of the whole
file in a system-scope session (what ``guanxi orders import-retail FILE --owner rep01`` runs), timed end to
end: seconds and lines/s (target ≤ 60 s); (3) payment plans for the imported orders with a positive total and
payments for 70 % of them (60 % paid in full, 10 % half), written set-based (one executemany per table);
(4) p50/p95 of the orders and payments list pages per role (rep01 owns every imported order: the largest
"own" scope; his team manager; the boss) next to the bare Flask page of ``bare_app.py``, through the real
app and a real login session (target ≤ 50 ms p95), plus the service-level list query alone.
``--explain`` prints the plan of each page's SELECTs on the big tables.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

import common
import explain
from timings import PAGE_SIZE, Runner, scoped_session, time_baselines

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "onlineretail.csv.gz"
URLS = {"sqlite": f"sqlite:///{common.BENCH_DIR / 'guanxi_retail.db'}",
        "pg": "postgresql+psycopg://postgres@127.0.0.1:5432/guanxi_retail",
        "mysql": "mysql+pymysql://root@127.0.0.1:3306/guanxi_retail"}
ROLES = ("salesperson", "manager", "boss")
BIG_TABLES = ("orders_order", "orders_order_line", "payments_plan", "payments_payment", "customer")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite", help="sqlite | pg | mysql | a SQLAlchemy URL")
    p.add_argument("--file", default=str(DEFAULT_FILE))
    p.add_argument("--owner", default="rep01", help="owner of the imported orders and customers")
    p.add_argument("--no-import", action="store_true", help="keep the database of the last run: pages only")
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--slow-repeat", type=int, default=10)
    p.add_argument("--slow-ms", type=float, default=500.0)
    p.add_argument("--cases", default="", help="only the cases whose name contains one of these words")
    p.add_argument("--explain", action="store_true")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------- set-up and import

def prepare(url):
    """Fresh database, schema from the migrations, roles, the bench company; returns the app."""
    from core import migrate
    from core.seed import seed_roles

    import generate
    common.create_database(url, reset=True)
    app = common.make_app(url)
    gx = app.extensions["guanxi"]
    migrate.upgrade(gx)
    with gx.system_session("bench: seed roles") as s:
        seed_roles(s, gx)
    generate.build_org(gx, 20240601)  # the 50-user company of generate.py (same seed)
    return app


def run_import(app, path, owner_login):
    from core.models import User
    from plugins.orders.retail_import import import_retail

    gx = app.extensions["guanxi"]
    with app.app_context(), gx.system_session("bench: retail import") as session:
        owner = session.execute(select(User).where(User.login == owner_login)).scalar_one()
        load_before, cpu = os.getloadavg()[0], time.process_time()
        started = time.perf_counter()
        stats = import_retail(session, path, owner_id=owner.id, registry=gx.entities)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    print(f"import: {stats.lines_read:,} lines in {seconds:.1f} s -> {stats.lines_read / seconds:,.0f} lines/s "
          f"(this process's CPU {cpu:.1f} s; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}; "
          f"target <= 60 s: {'ok' if seconds <= 60 else 'OVER'})")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in stats.as_dict().items()
                           if k not in ("errors", "seconds", "lines_read", "phases") and v))
    print("  seconds per phase: " + ", ".join(f"{k} {v:.1f}" for k, v in stats.phases.items()))
    return seconds, stats


def make_payments(app):
    """A plan per imported order with a positive total (due 30 days after the order); payments for 70 % of
    them: 60 % in full, 10 % half (partial). Set-based: one SELECT, then the importer's packed INSERT."""
    from core.db import utcnow
    from plugins.orders.models import Order
    from plugins.payments.models import Payment, PaymentPlan, plan_status

    gx = app.extensions["guanxi"]
    started = time.perf_counter()
    now = utcnow()
    with app.app_context(), gx.system_session("bench: payment plans") as session:
        orders = session.execute(select(Order.id, Order.customer_id, Order.currency, Order.total, Order.ordered_on,
                                        Order.owner_id, Order.department_id)
                                 .where(Order.status != "cancelled", Order.total > 0).order_by(Order.id)).all()
        plans, received = [], []
        for n, order in enumerate(orders):
            paid = order.total if n % 10 < 6 else (order.total / 2).quantize(Decimal("0.01")) if n % 10 == 6 \
                else Decimal("0.00")
            received.append(paid)
            plans.append({"order_id": order.id, "customer_id": order.customer_id, "currency": order.currency,
                          "instalment": 1, "title": None, "due_on": order.ordered_on + dt.timedelta(days=30),
                          "amount": order.total, "received_amount": paid, "status": plan_status(order.total, paid),
                          "owner_id": order.owner_id, "department_id": order.department_id, "version": 1,
                          "created_at": now, "updated_at": now})
        insert_dicts(session, PaymentPlan.__table__, plans)
        plan_ids = dict(session.execute(select(PaymentPlan.order_id, PaymentPlan.id)).all())
        payments = [{"plan_id": plan_ids[order.id], "order_id": order.id, "customer_id": order.customer_id,
                     "currency": order.currency, "amount": paid,
                     "received_on": order.ordered_on + dt.timedelta(days=20),
                     "method": "bank_transfer", "reference": None, "note": None, "overpayment": False,
                     "owner_id": order.owner_id, "department_id": order.department_id, "custom": {},
                     "version": 1, "created_at": now, "updated_at": now}
                    for order, paid in zip(orders, received) if paid > 0]
        insert_dicts(session, Payment.__table__, payments)
        session.commit()
    seconds = time.perf_counter() - started
    print(f"payments: {len(plans):,} plans, {len(payments):,} payments in {seconds:.1f} s")


def insert_dicts(session, table, rows):
    """The importer's packed INSERT (one bound value per page) for rows given as dicts."""
    from plugins.orders.retail_import import insert_rows
    if rows:
        columns = list(rows[0])
        insert_rows(session, table, columns, [tuple(row[c] for c in columns) for row in rows])


def analyze(gx):
    import generate
    from plugins.orders.models import Order, OrderLine
    from plugins.payments.models import Payment, PaymentPlan
    from core.models import Customer, Product
    tables = [t.__table__ for t in (Customer, Product, Order, OrderLine, PaymentPlan, Payment)]
    generate.finish(gx.engine, tables, True, generate.Clock())  # planner statistics (and PG sequences)


# ---------------------------------------------------------------------------------------- page timings

def bench_users(gx, owner_login):
    """The owner of the imported data, the manager of his department (or the nearest one above), the boss."""
    from core.models import Department, User
    with gx.system_session("bench: pick users") as s:
        users = {u.login: u for u in s.execute(select(User)).scalars()}
        owner = users[owner_login]
        path = s.execute(select(Department.path).where(Department.id == owner.department_id)).scalar_one()
        managers = [u for login, u in users.items() if login.startswith("manager_")]
        paths = {m.id: s.execute(select(Department.path).where(Department.id == m.department_id)).scalar_one()
                 for m in managers}
        manager = max((m for m in managers if path.startswith(paths[m.id])), key=lambda m: len(paths[m.id]))
        return {"salesperson": owner, "manager": manager, "boss": users["boss"]}


def page_cases(app):
    """(name, path) of the list pages that exist in this build."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    cases = []
    if "/orders/" in rules:
        cases.append(("orders list /orders/", "/orders/"))
    cases += [("customers list /r/customer/ (reference)", "/r/customer/"),
              ("orders list /r/order/", "/r/order/"),
              ("orders f_status=completed", "/r/order/?f_status=completed"),
              ("payments list /r/payment/", "/r/payment/"),
              ("payment plans /r/payment_plan/", "/r/payment_plan/")]
    return cases


def time_pages(app, users, args, runner):
    from core import services
    gx = app.extensions["guanxi"]
    count_cap = int(gx.settings.get("COUNT_CAP", 10000))
    for role in ROLES:
        user = users[role]
        session = scoped_session(gx, user.id)
        with app.test_request_context("/"):
            for entity in ("order", "payment", "payment_plan"):
                spec = gx.entities.get(entity)
                if spec is None:
                    continue
                total = session.execute(select(func.count()).select_from(
                    services.list_query(session, spec).with_only_columns(spec.model.id).subquery())).scalar_one()
                session.rollback()
                print(f"  {role} = {user.login}: {total:,} visible {entity} rows")

                def call(spec=spec):
                    result = services.page(session, spec, services.list_query(session, spec), limit=PAGE_SIZE,
                                           count_cap=count_cap)
                    session.rollback()
                    return result
                runner.run(role, f"svc {entity} list page 1", "list", call)
        session.close()
        client = common.login_client(app, user.id)
        for name, path in page_cases(app):
            def get(path=path):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            runner.run(role, name, "list", get)
            if args.explain and runner.wanted(name) and role == "salesperson":
                with explain.captured_sql(gx.engine) as statements:
                    client.get(path)
                for sql, params in explain.entity_selects(statements, BIG_TABLES):
                    print(f"    -- {' '.join(sql.split())[:300]}\n{explain.plan(gx.engine, sql, params)}")


def main(argv=None):
    args = parse_args(argv)
    url = URLS.get(args.url) or common.resolve_url(args.url)
    print(f"retail bench on {url}: {platform.machine()} python {platform.python_version()}, "
          f"{dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if args.no_import:
        app = common.make_app(url)
    else:
        app = prepare(url)
        run_import(app, args.file, args.owner)
        make_payments(app)
        analyze(app.extensions["guanxi"])
    gx = app.extensions["guanxi"]
    users = bench_users(gx, args.owner)
    runner = Runner(argparse.Namespace(repeat=args.repeat, slow_repeat=args.slow_repeat, slow_ms=args.slow_ms,
                                       cases=args.cases), reference_ms=None)
    _, (bare_p50, _) = time_baselines(url, gx, runner)
    runner.reference_ms = bare_p50
    time_pages(app, users, args, runner)
    print(f"load average now {os.getloadavg()[0]:.1f}")
    gx.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
