"""No raw SQL around the data scope.

The scope is one ``do_orm_execute`` listener (``core.scope``): ``sqlalchemy.text()``, driver SQL, direct
engine connections and ``Session.get`` on an entity model (answered from the identity map without SQL) all
slip past it. This scan reads the real files of ``plugins/**`` (migrations excepted) and of ``core/**``
(except the allowlist below) and fails on any of them.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Core files that legitimately talk to the database below the ORM: test database set-up and wiping,
# migrations, and the engine/session factory itself.
CORE_ALLOWLIST = ("core/testing/", "core/migrate.py", "core/db.py", "core/migrations/")

RAW_CONNECTION_METHODS = {"exec_driver_sql", "raw_connection"}
ENGINE_NAME = re.compile(r"(^|_)(engine|bind)$", re.IGNORECASE)


def _receiver_name(node) -> str:
    """``gx.engine`` -> "engine", ``engine`` -> "engine", ``session.get_bind()`` -> "get_bind"."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _receiver_name(node.func)
    return ""


class RawSqlFinder(ast.NodeVisitor):
    """Collects ``(line, what)`` for every construct that bypasses the scoped ORM session."""

    def __init__(self, entity_models: set[str]):
        self.entity_models = entity_models
        self.sqlalchemy_aliases = {"sqlalchemy"}
        self.text_names = set()
        self.problems: list[tuple[int, str]] = []

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                self.sqlalchemy_aliases.add(alias.asname or alias.name.split(".")[0])
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name == "text":
                    self.text_names.add(alias.asname or "text")
                    self.problems.append((node.lineno, "imports sqlalchemy text()"))
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.text_names:
            self.problems.append((node.lineno, "text(...)"))
        elif isinstance(func, ast.Attribute):
            self._check_method(node, func)
        self.generic_visit(node)

    def _check_method(self, node, func):
        receiver = _receiver_name(func.value)
        if func.attr == "text" and receiver in self.sqlalchemy_aliases:
            self.problems.append((node.lineno, f"{receiver}.text(...)"))
        elif func.attr in RAW_CONNECTION_METHODS:
            self.problems.append((node.lineno, f".{func.attr}(...)"))
        elif func.attr in ("connect", "begin") and (ENGINE_NAME.search(receiver) or receiver == "get_bind"):
            self.problems.append((node.lineno, f"{receiver}.{func.attr}() (raw connection)"))
        elif func.attr == "get" and node.args and self._is_entity_model(node.args[0]):
            self.problems.append((node.lineno, f".get({_receiver_name(node.args[0])}, ...) on an entity model"))

    def _is_entity_model(self, node) -> bool:
        # ``spec.model`` is how generic code names an entity's class
        spec_model = isinstance(node, ast.Attribute) and node.attr == "model"
        return spec_model or _receiver_name(node) in self.entity_models


def scan_source(source: str, entity_models: set[str]) -> list[tuple[int, str]]:
    finder = RawSqlFinder(entity_models)
    finder.visit(ast.parse(source))
    return sorted(finder.problems)


def python_files(folder: str, allowlist=()) -> list[Path]:
    files = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in f"/{relative}" or relative.startswith(allowlist):
            continue
        files.append(path)
    return files


def violations(files, entity_models) -> list[str]:
    found = []
    for path in files:
        for line, what in scan_source(path.read_text(encoding="utf-8"), entity_models):
            found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    return found


@pytest.fixture(scope="module")
def entity_models(_guanxi_session_app) -> set[str]:
    """Class names of every registered entity model (all installed modules are loaded in this app)."""
    return {spec.model.__name__ for spec in _guanxi_session_app.extensions["guanxi"].entities}


def test_the_scanner_catches_every_bypass(entity_models):
    sample = """
import sqlalchemy as sa
from sqlalchemy import text as raw
from core.models import Customer

def leak(session, gx, engine, data):
    session.execute(raw("select * from customer"))
    session.execute(sa.text("select 1"))
    gx.engine.connect()
    engine.begin()
    session.connection().exec_driver_sql("select 1")
    session.get(Customer, 3)
    db().get(spec.model, 4)
    data.get("name")            # a dict: fine
    record_created.connect(print)  # a blinker signal: fine
"""
    found = [what for _line, what in scan_source(sample, entity_models)]
    assert found == ["imports sqlalchemy text()", "text(...)", "sa.text(...)", "engine.connect() (raw connection)",
                     "engine.begin() (raw connection)", ".exec_driver_sql(...)",
                     ".get(Customer, ...) on an entity model", ".get(model, ...) on an entity model"]


def test_plugins_use_only_the_scoped_orm(entity_models):
    files = python_files("plugins")
    assert violations(files, entity_models) == []


def test_core_uses_only_the_scoped_orm_outside_the_allowlist(entity_models):
    files = python_files("core", CORE_ALLOWLIST)
    assert len(files) > 20, "the scan should cover core's modules"
    assert violations(files, entity_models) == []


def test_example_plugin_uses_only_the_scoped_orm(entity_models):
    files = python_files("examples")
    assert files, "the example plugin's sources should be scanned"
    assert violations(files, entity_models) == []
