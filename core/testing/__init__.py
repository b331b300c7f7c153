"""Test helpers plugin authors reuse (the pytest fixtures live in ``core.testing.pytest_plugin``).

* ``GUANXI_TEST_DATABASE_URL`` selects the database server: unset = SQLite in a temporary file;
  ``postgresql+psycopg://postgres@127.0.0.1/`` or ``mysql+pymysql://root@127.0.0.1/`` = a fresh database
  is created on that server for the test session and dropped afterwards.
* ``Org`` builds the standard department tree and users of every stock role.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url

from core.db import Base
from core.models import Department, Role, User, UserSession

TEST_PASSWORD = "Correct-Horse-Battery-Staple-42"


def create_test_database(base_url: str | None, tmp_dir) -> tuple[str, callable]:
    """Return (database URL, drop function) for a fresh, empty database."""
    if not base_url or base_url.startswith("sqlite"):
        path = f"{tmp_dir}/guanxi-test-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    url = make_url(base_url)
    name = f"guanxi_test_{uuid.uuid4().hex[:10]}"
    admin_db = "postgres" if url.get_backend_name() == "postgresql" else (url.database or "mysql")
    admin = create_engine(url.set(database=admin_db), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # identifiers cannot be bound parameters; ``name`` is generated above, never user input
        if url.get_backend_name() == "postgresql":
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        else:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))

    def drop():
        with admin.connect() as conn:
            if url.get_backend_name() == "postgresql":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                # A connection some test left inside a transaction holds a metadata lock that would make
                # DROP DATABASE wait forever: end such connections first (PostgreSQL's FORCE does the same).
                stale = conn.execute(text("SELECT id FROM information_schema.processlist WHERE db = :db"),
                                     {"db": name}).scalars().all()
                for connection_id in stale:
                    try:
                        conn.execute(text(f"KILL {int(connection_id)}"))
                    except DBAPIError as error:
                        # 1094 "Unknown thread id": the connection ended between the listing and the KILL
                        if getattr(error.orig, "args", (None,))[0] != 1094:
                            raise
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def wipe(gx):
    """Delete every row of every table (keeps the schema and Alembic versions), then reseed roles."""
    from core.seed import seed_roles

    with gx.engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        conn.execute(update(Base.metadata.tables["department"]).values(manager_id=None, parent_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing:
                conn.execute(delete(table))
    with gx.system_session("test: reseed roles") as session:
        seed_roles(session, gx)


class Org:
    """The standard test company (SECURITY.md fixtures): a department tree and a user per relation.

    boss (HQ) ─┬─ East (manager_east, rep_east) ── East-1 (rep_east_sub)
               ├─ West (manager_west, rep_west)
               └─ Purchasing (procurement); Service (service); IT (admin); deactivated rep in East
    """

    def __init__(self, gx, password_hash):
        self.gx = gx
        with gx.system_session("test: build org") as s:
            roles = {r.key: r for r in s.execute(select(Role)).scalars()}
            hq = self._dept(s, "总公司 HQ", None)
            east = self._dept(s, "华东销售部 East", hq)
            east1 = self._dept(s, "华东一组 East-1", east)
            west = self._dept(s, "华西销售部 West", hq)
            purchasing = self._dept(s, "采购部 Purchasing", hq)
            service = self._dept(s, "客服部 Service", hq)
            it = self._dept(s, "信息部 IT", hq)
            spec = [
                ("boss", "老板 Boss", hq, "boss"), ("admin", "管理员 Admin", it, "admin"),
                ("manager_east", "华东经理 East Manager", east, "sales_manager"),
                ("manager_west", "华西经理 West Manager", west, "sales_manager"),
                ("rep_east", "张三 Zhang San", east, "salesperson"),
                ("rep_east_sub", "李四 Li Si", east1, "salesperson"),
                ("rep_west", "王五 Wang Wu", west, "salesperson"),
                ("procurement", "赵六 Zhao Liu", purchasing, "procurement"),
                ("service", "钱七 Qian Qi", service, "service"),
                ("deactivated", "孙八 Sun Ba", east, "salesperson"),
            ]
            for login, name, dept, role in spec:
                user = User(login=login, name=name, email=f"{login}@example.com", department_id=dept.id,
                            password_hash=password_hash, active=login != "deactivated", language="en")
                user.roles = [roles[role]]
                s.add(user)
                s.flush()
                setattr(self, login, user)
            east.manager_id, west.manager_id = self.manager_east.id, self.manager_west.id
            hq.manager_id = self.boss.id
            s.commit()
            self.departments = {"hq": hq, "east": east, "east1": east1, "west": west,
                                "purchasing": purchasing, "service": service, "it": it}

    @staticmethod
    def _dept(session, name, parent):
        dept = Department(name=name, parent_id=parent.id if parent else None)
        session.add(dept)
        session.flush()
        dept.path = f"{parent.path if parent else '/'}{dept.id}/"
        return dept

    def users(self):
        return [getattr(self, k) for k in ("boss", "admin", "manager_east", "manager_west", "rep_east",
                                           "rep_east_sub", "rep_west", "procurement", "service",
                                           "deactivated")]


def login_client(app, user) -> "object":
    """A test client with a real server-side session for ``user`` (no password round trip)."""
    gx = app.extensions["guanxi"]
    token = secrets.token_urlsafe(32)
    with gx.system_session("test: session") as s:
        s.add(UserSession(id=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id))
        s.commit()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    client.guanxi_user = user
    return client


_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/") -> str:
    """The CSRF token of ``client``'s session, read from a page's ``<meta name="csrf-token">``."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    if not match:
        raise AssertionError(f"no csrf-token meta tag on {path}")
    return match.group(1)


def api_token(app, user, name="test") -> str:
    from core.auth import create_api_token
    gx = app.extensions["guanxi"]
    with gx.system_session("test: api token") as s:
        fresh = s.execute(select(User).where(User.id == user.id)).scalar_one()
        return create_api_token(s, fresh, name)


# ---------------------------------------------------------------- PDF inspection (poppler-utils)

class PdfFont(str):
    """A font of a PDF as ``pdffonts`` lists it: the string is its name ("ABCDEF+NotoSansCJKsc-Regular");
    ``.type``, ``.encoding``, ``.embedded`` (bool) and ``.subset`` tell the rest."""

    type: str
    encoding: str
    embedded: bool
    subset: bool

    def __new__(cls, name, type_="", encoding="", embedded=False, subset=False):
        font = super().__new__(cls, name)
        font.type, font.encoding, font.embedded, font.subset = type_, encoding, embedded, subset
        return font


def _poppler(tool: str, pdf_bytes: bytes, *args) -> str:
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf_bytes)
        handle.flush()
        done = subprocess.run([tool, *args, handle.name, *(["-"] if tool == "pdftotext" else [])],
                              capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8", errors="replace")


def pdf_fonts(pdf_bytes: bytes) -> list[PdfFont]:
    """Every font of the PDF (``pdffonts``), e.g. ``[f for f in pdf_fonts(data) if "NotoSansCJK" in f and
    f.embedded]``."""
    lines = _poppler("pdffonts", pdf_bytes).splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans, start = [], 0
    for dashes in lines[rule].split(" "):  # columns are as wide as their dashes
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 1
    fonts = []
    for line in lines[rule + 1:]:
        if not line.strip():
            continue
        cells = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0]:].strip()]
        name, type_, encoding, emb, sub = cells[0], cells[1], cells[2], cells[3], cells[4]
        fonts.append(PdfFont(name, type_, encoding, emb == "yes", sub == "yes"))
    return fonts


def pdf_text(pdf_bytes: bytes, layout: bool = False) -> str:
    """The text of the PDF as ``pdftotext`` extracts it (``layout=True`` keeps the columns)."""
    return _poppler("pdftotext", pdf_bytes, "-enc", "UTF-8", *(["-layout"] if layout else []))
