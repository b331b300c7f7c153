"""The example third-party plugin (``examples/guanxi-example-plugin``) works as a separate package: found
through its ``guanxi.plugins`` entry point, migrated by its own Alembic lineage, serving its route and its
customer panel, and its own test suite passes with the published fixtures."""
from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from core import migrate
from core.models import Customer

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "guanxi-example-plugin"
ENTRY_POINT = "guanxi_example_visits.plugin"


def _entry_point():
    return next((ep for ep in importlib.metadata.entry_points(group="guanxi.plugins") if ep.name == "visits"),
                None)


@pytest.fixture(scope="session")
def example_plugin():
    """Make sure the package is installed in this interpreter (pip install -e, once), else skip."""
    if _entry_point() is None:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(PACKAGE)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:  # offline: build with the setuptools already installed
            done = subprocess.run(command + ["--no-build-isolation"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"could not install the example plugin ({' '.join(command)}): {done.stderr[-2000:]}")
        importlib.invalidate_caches()
        if str(PACKAGE) not in sys.path:  # the editable install's .pth is only read by new interpreters
            sys.path.append(str(PACKAGE))
    entry_point = _entry_point()
    assert entry_point is not None and entry_point.value == ENTRY_POINT
    return entry_point


@pytest.fixture
def visits_app(example_plugin, app_with):
    return app_with()


def test_plugin_is_discovered_through_its_entry_point(visits_app):
    info = visits_app.extensions["guanxi"].modules["visits"]
    assert info.source == ENTRY_POINT
    assert info.loaded and info.version == "0.1.0"
    assert {"register_models", "entity_specs", "record_panels", "register_blueprints"} <= set(info.hooks)


def test_plugin_table_is_migrated_by_its_own_lineage(visits_app):
    gx = visits_app.extensions["guanxi"]
    assert inspect(gx.engine).has_table("visits_site_visit")
    assert inspect(gx.engine).has_table("alembic_version_visits")
    assert migrate.current(gx)["visits"] == migrate.heads(gx)["visits"] == "visits_0001"


def test_plugin_route_and_customer_panel_answer(visits_app, org, client_as):
    from guanxi_example_visits.models import SiteVisit

    gx = visits_app.extensions["guanxi"]
    with gx.system_session("test: a visited customer") as session:
        rep = org.rep_east
        customer = Customer(name="Panel Customer", owner_id=rep.id, department_id=rep.department_id)
        session.add(customer)
        session.flush()
        session.add(SiteVisit(customer_id=customer.id, date=dt.date(2024, 3, 4), purpose="Panel visit",
                              owner_id=rep.id, department_id=rep.department_id))
        session.commit()
        customer_id = customer.id
    client = client_as(org.rep_east, visits_app)

    summary = client.get("/visits/summary")
    assert summary.status_code == 200
    assert 'data-outcome="planned">1<' in summary.get_data(as_text=True)

    detail = client.get(f"/r/customer/{customer_id}").get_data(as_text=True)
    assert "Panel visit" in detail

    assert client_as(org.procurement, visits_app).get("/visits/summary").status_code == 403


def test_plugin_own_test_suite_passes(example_plugin):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def quoted_blocks(markdown: str):
    """``(path, text)`` of every fenced block in the guide whose first line names an example file."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", markdown, flags=re.DOTALL):
        first, _, rest = block.partition("\n")
        if first.startswith("# examples/"):
            yield first[2:].strip(), rest


def test_plugin_guide_quotes_the_example_verbatim():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    blocks = list(quoted_blocks(guide))
    assert len(blocks) >= 8
    for path, text in blocks:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert text in source, f"docs/plugins.md quotes {path}, but the file no longer contains:\n{text}"
