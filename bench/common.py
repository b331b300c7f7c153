"""Shared helpers of the bench scripts: database URLs, the app, logged-in sessions, percentiles.

The bench scripts are run as ``python bench/<script>.py`` from the repository root, so this module is
imported as ``common`` (the script's folder is on ``sys.path``).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import statistics
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

BENCH_DIR = Path(os.environ.get("GUANXI_BENCH_DIR", "/tmp/bench"))
SQLITE_URL = f"sqlite:///{BENCH_DIR / 'guanxi_bench.db'}"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/guanxi_bench"
# Fixed so that the load script can sign a session cookie the gunicorn workers accept.
BENCH_SECRET = "guanxi-bench-secret-not-for-production"
BENCH_PASSWORD = "Bench-Password-For-Guanxi-2024"

ALIASES = {"sqlite": SQLITE_URL, "pg": POSTGRES_URL, "postgresql": POSTGRES_URL}


def resolve_url(url: str) -> str:
    """``sqlite`` / ``pg`` shortcuts or a full SQLAlchemy URL."""
    return ALIASES.get(url, url)


def bench_settings(url: str) -> dict:
    instance = BENCH_DIR / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": BENCH_SECRET,
            "QUEUE": "memory", "LICENSE_FILE": None, "DEFAULT_LANGUAGE": "en"}


def bundled_plugins_only():
    """Load only the plugins that ship with Guanxi (``plugins.*``), not whatever else is installed in the
    virtualenv (an example plugin under development must not break or skew a benchmark).
    Set ``GUANXI_BENCH_ALL_PLUGINS=1`` to load every installed plugin instead."""
    import core.plugins

    if os.environ.get("GUANXI_BENCH_ALL_PLUGINS") or getattr(core.plugins, "_bench_filtered", False):
        return
    everything = core.plugins.installed_entry_points

    def bundled():
        return {name: ep for name, ep in everything().items() if ep.value.startswith("plugins.")}

    core.plugins.installed_entry_points = bundled
    core.plugins._bench_filtered = True


def make_app(url: str):
    from core.app import create_app
    bundled_plugins_only()
    return create_app(bench_settings(url))


def make_runtime(url: str):
    """The ``Guanxi`` runtime (engine, plugins, registries) without the web parts — what the generator
    needs to migrate and seed; mirrors the first half of ``core.app.create_app``."""
    from core import licence as licence_mod
    from core.app import _admin_disabled_modules, _collect_registries
    from core.config import load_settings, split_list
    from core.db import make_engine, make_session_factory
    from core.plugins import load_plugins, make_plugin_manager
    from core.runtime import Guanxi

    bundled_plugins_only()
    settings = load_settings(bench_settings(url))
    engine = make_engine(settings["DATABASE_URL"])
    session_factory = make_session_factory(engine)
    licence = licence_mod.load(settings["LICENSE_FILE"], split_list(settings["VENDOR_PUBLIC_KEYS"]))
    pm = make_plugin_manager()
    modules = load_plugins(pm, configured=set(split_list(settings["MODULES"])) or {"*"}, licence=licence,
                           disabled=_admin_disabled_modules(session_factory), extra=[])
    gx = Guanxi(settings=settings, engine=engine, session_factory=session_factory, pm=pm, modules=modules,
                licence=licence)
    _collect_registries(gx)
    return gx


def create_database(url: str, reset: bool) -> None:
    """Make sure the target database exists (and is empty when ``reset``)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database
    admin_db = "postgres" if backend == "postgresql" else "mysql"
    admin = create_engine(parsed.set(database=admin_db), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # ``name`` comes from the operator's own command line, not from a user
        if backend == "postgresql":
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and reset:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        else:
            if reset:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci"))
    admin.dispose()


def new_session_token(gx, user_id: int) -> str:
    """A server-side login session for ``user_id``, created like ``core.testing.login_client`` does."""
    from core.models import UserSession
    token = secrets.token_urlsafe(32)
    with gx.system_session("bench: login session") as s:
        s.add(UserSession(id=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id))
        s.commit()
    return token


def login_client(app, user_id: int):
    """A Flask test client logged in as ``user_id`` (same mechanism as ``core.testing.login_client``)."""
    token = new_session_token(app.extensions["guanxi"], user_id)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return client


def session_cookie(app, user_id: int) -> str:
    """``name=value`` of a signed Flask session cookie for a fresh login session (for wrk -H)."""
    token = new_session_token(app.extensions["guanxi"], user_id)
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'_user_id': token, '_fresh': True})}"


def bench_users(gx) -> dict:
    """The users the timings run as (made by generate.py): the busiest salesperson (rep01), his manager
    (East, the biggest team), the boss, and the other end of the skew: the salesperson with the fewest
    customers and the manager of the smallest team (few matches = the most rows to scan)."""
    from core.models import Customer, Department, User
    with gx.system_session("bench: pick users") as s:
        by_login = {u.login: u for u in s.execute(select(User)).scalars()}
        per_owner = dict(s.execute(select(Customer.owner_id, func.count()).group_by(Customer.owner_id)).all())
        reps = [u for login, u in by_login.items() if login.startswith("rep")]
        smallest_rep = min(reps, key=lambda u: (per_owner.get(u.id, 0), u.id))
        per_team = {}
        for login, manager in by_login.items():
            if not login.startswith("manager_"):
                continue
            path = s.execute(select(Department.path).where(Department.id == manager.department_id)).scalar_one()
            team = s.execute(select(Department.id).where(Department.path.startswith(path))).scalars().all()
            per_team[manager.id] = s.execute(select(func.count()).select_from(Customer).where(
                Customer.department_id.in_(team))).scalar_one()
        smallest_manager = min(per_team, key=lambda uid: (per_team[uid], uid))
        by_id = {u.id: u for u in by_login.values()}
        return {"salesperson": by_login["rep01"], "manager": by_login["manager_east"], "boss": by_login["boss"],
                "salesperson_small": smallest_rep, "manager_small": by_id[smallest_manager]}


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ordered = sorted(samples_ms)
    p95_index = max(0, int(round(0.95 * len(ordered))) - 1)
    return statistics.median(ordered), ordered[p95_index]


def time_calls(fn, repeat: int, warmup: int = 3) -> list[float]:
    """Call ``fn`` ``warmup`` times unmeasured, then ``repeat`` times; milliseconds per call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples
