"""The plugin contract: every hook in ``hooks.py`` is documented, ``docs/hooks.md`` is generated from it, and
every hook is exercised for real by ``HookCheckPlugin``, a plugin that implements all of them.

Adding a hook to ``hooks.py`` fails this module until the hook has a docstring, the reference page is
regenerated (``python -m core.hookdocs > docs/hooks.md``), the plugin below implements it and a
``test_hook_<name>`` function triggers it.
"""
from __future__ import annotations

import contextlib
import datetime
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask import Blueprint, g
from jinja2 import DictLoader
from marshmallow import Schema, fields
from sqlalchemy import Integer, String, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import hookdocs, jobs
from core.authz import establish_scope, requires
from core.entities import EntitySpec, Field
from core.models import Customer, Role, Setting, User
from core.permissions import Permission, StockRole
from core.schemas import EntitySchema, text_field
from core.runtime import db
from core.seed import seed_roles
from core.testing.pytest_plugin import make_test_app
from core.ui import Action, MenuItem, Panel, Widget
from hooks import hookimpl

ROOT = Path(__file__).resolve().parents[2]
NAME = "hookcheck"


# ---------------------------------------------------------------------------------------------- the plugin

class NoteBase(DeclarativeBase):
    """A metadata of its own, so the test table never leaks into the app's migrations or other tests."""


class HookNote(NoteBase):
    __tablename__ = "hookcheck_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


class NoteSchema(EntitySchema):
    class Meta(EntitySchema.Meta):
        exclude = ("custom", "version", "created_at", "updated_at")

    title = text_field(100, required=True)


class HookCheckSettings(Schema):
    greeting = fields.String(load_default="hello")


@dataclass(frozen=True)
class SearchProviderStandIn:
    name: str


@dataclass(frozen=True)
class FieldTypeStandIn:
    key: str


SEARCH_PROVIDER = SearchProviderStandIn("hookcheck-notes")
DEAL_DAY = datetime.date(2024, 3, 1)
FIELD_TYPE = FieldTypeStandIn("hookcheck_colour")
TEMPLATES = {
    "hookcheck/panel.html": "<p class='card-body hookcheck-panel'>{{ panel.context.marker }}</p>",
    "hookcheck/widget.html": "<p class='card-body hookcheck-widget'>{{ data.marker }}</p>",
}


class HookCheckBlueprint(Blueprint):
    @property
    def jinja_loader(self):
        return DictLoader(TEMPLATES)


bp = HookCheckBlueprint(NAME, __name__, url_prefix="/hookcheck")


@bp.route("/ping")
@requires("hookcheck.note.view")
def ping():
    return "pong from hookcheck"


def tick(session):
    session.add(Setting(key=f"hookcheck.tick.{uuid.uuid4().hex[:8]}", value={"ticked": True}))
    return "ticked"


@click.command(NAME)
def hookcheck_command():
    """Say that the hook-check plugin's command ran."""
    click.echo("hookcheck command ran")


class HookCheckPlugin:
    """Implements every hook of ``hooks.py`` and remembers the start-up calls it received."""

    def __init__(self):
        self.configured_apps = []
        self.merges = []
        self.demos = []

    @hookimpl
    def register_models(self):
        return [HookNote]

    @hookimpl
    def register_blueprints(self, app):
        app.register_blueprint(bp)

    @hookimpl
    def register_permissions(self):
        return [Permission(f"hookcheck.note.{action}", f"Hook-check notes: {action}")
                for action in ("view", "create", "edit", "delete")]

    @hookimpl
    def register_roles(self):
        return [StockRole("boss", {f"hookcheck.note.{a}": "all" for a in ("view", "create", "edit", "delete")})]

    @hookimpl
    def entity_specs(self):
        return [EntitySpec(name="hookcheck_note", module=NAME, permission_prefix="hookcheck.note",
                           model=HookNote, schema=NoteSchema,
                           label="Hook-check note", label_plural="Hook-check notes", title_attr="title",
                           fields=[Field("title", "Title", required=True)], list_columns=["title"],
                           search_fields=["title"], custom_fields=False, audit=False)]

    @hookimpl
    def entity_scope_filter(self, entity, user, level, model):
        # customers named "Shared ..." are visible to every salesperson on top of his own
        if entity == "customer" and level == "own":
            return or_(model.owner_id == user.id, model.name.startswith("Shared "))
        return None

    @hookimpl
    def menu_items(self, user):
        return [MenuItem("Hook-check notes", "hookcheck.ping", "hookcheck.note.view", order=99)]

    @hookimpl
    def record_panels(self, entity, record, user):
        if entity != "customer":
            return []
        return [Panel("hookcheck", "Hook-check panel", "hookcheck/panel.html",
                      context={"marker": f"panel for {record.name}"})]

    @hookimpl
    def record_actions(self, entity, record, user):
        return [Action("hookcheck.act", "Hook-check action", "/hookcheck/ping")] if entity == "customer" else []

    @hookimpl
    def list_actions(self, entity, user):
        return [Action("hookcheck.bulk", "Hook-check bulk", "/hookcheck/ping", method="POST")] \
            if entity == "customer" else []

    @hookimpl
    def dashboard_widgets(self, user):
        return [Widget("hookcheck", "Hook-check widget", "hookcheck/widget.html",
                       load=lambda: {"marker": f"widget loaded for {user.login}"})]

    @hookimpl
    def search_providers(self):
        return [SEARCH_PROVIDER]

    @hookimpl
    def custom_field_types(self):
        return [FIELD_TYPE]

    @hookimpl
    def scheduled_jobs(self):
        return [jobs.ScheduledJob("hookcheck.tick", tick, crontab={"minute": "*/5"})]

    @hookimpl
    def cli_commands(self):
        return [hookcheck_command]

    @hookimpl
    def settings_schema(self):
        return (NAME, HookCheckSettings)

    @hookimpl
    def app_configured(self, app):
        self.configured_apps.append(app)

    @hookimpl
    def merge_records(self, entity, survivor_id, merged_ids, session):
        # what a plugin sees mid-merge: the merged record is still there, under a system scope
        from core.scope import current_scope
        still_there = session.execute(select(Customer.id).where(Customer.id.in_(merged_ids))).scalars().all()
        self.merges.append((entity, survivor_id, list(merged_ids), current_scope(session).kind, still_there))

    @hookimpl
    def pool_deal_dates(self, session, customer_ids):
        # every "Shared ..." customer closed a deal on DEAL_DAY; one set-based query, as the spec asks
        shared = session.execute(select(Customer.id).where(Customer.id.in_(customer_ids),
                                                           Customer.name.startswith("Shared "))).scalars()
        return {customer_id: DEAL_DAY for customer_id in shared}

    @hookimpl
    def demo_data(self, session, users, customers, seed, today):
        # what a plugin gets from the demo: a system session, the users by login, customers with contacts
        from core.scope import current_scope
        sellers = sorted(login for login, user in users.items() if user.department_id and user.roles)
        self.demos.append((current_scope(session).kind, sellers, len(customers),
                           all(customer.id and contacts for customer, contacts in customers), seed, today))
        session.add(HookNote(title=f"demo note {seed}"))  # written with core's rows, committed by core

    @hookimpl
    def deal_chain(self, entity, record, user, session):
        # a customer's chain: one contract of 80.00 of which 30.00 were received (read through the session)
        if entity != "customer":
            return []
        from core.chain import POSITIONS, ChainRow, ChainStage
        name = session.execute(select(Customer.name).where(Customer.id == record.id)).scalar_one()
        return [ChainStage(POSITIONS["payments"], "hookcheck_payments", "Hook-check payments",
                           [ChainRow(f"paid by {name}", None, "Recorded", Decimal("30.00"), "CNY")],
                           {"received": {"CNY": Decimal("30.00")}}),
                ChainStage(POSITIONS["contracts"], "hookcheck_contracts", "Hook-check contracts",
                           [ChainRow(f"contract of {name}", "/hookcheck/ping", "Active", Decimal("80.00"), "CNY")],
                           {"contracted": {"CNY": Decimal("80.00")}})]

    @hookimpl
    def record_delete_blockers(self, entity, record, session):
        # the hook check's notes still need the shared customer: it may not go to the recycle bin
        if entity == "customer" and record.name == "Shared East":
            return ["Shared East is still referred to by a hook-check note."]
        return []

    @hookimpl
    def orders_paid_amounts(self, session, order_ids):
        # the hook-check plugin "received" 1.50 on every order it is asked about
        return {order_id: Decimal("1.50") for order_id in order_ids}


PLUGIN = HookCheckPlugin()


# ---------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def hook_app(guanxi_database, guanxi_instance):
    """One app with ``HookCheckPlugin`` for the whole module (its start-up hooks run once, here)."""
    app = make_test_app(guanxi_database, guanxi_instance, plugins=[(NAME, PLUGIN)])
    gx = app.extensions["guanxi"]
    NoteBase.metadata.create_all(gx.engine)
    yield app
    NoteBase.metadata.drop_all(gx.engine)
    gx.engine.dispose()


@pytest.fixture
def hook_gx(hook_app):
    return hook_app.extensions["guanxi"]


@pytest.fixture
def world(app, org, hook_app, hook_gx):
    """The standard org on a wiped database, stock roles seeded with the plugin's grants, and customers."""
    with hook_gx.system_session("test: seed hookcheck roles and customers") as session:
        seed_roles(session, hook_gx)
        session.execute(HookNote.__table__.delete())
        customers = {
            "own": Customer(name="West Own", owner_id=org.rep_west.id, department_id=org.rep_west.department_id),
            "shared": Customer(name="Shared East", owner_id=org.rep_east.id,
                               department_id=org.rep_east.department_id),
            "private": Customer(name="East Private", owner_id=org.rep_east.id,
                                department_id=org.rep_east.department_id),
        }
        session.add_all(customers.values())
        session.add(HookNote(title="a note from the hook check"))
        session.commit()
        ids = {key: customer.id for key, customer in customers.items()}
    return {"org": org, "customers": ids}


@contextlib.contextmanager
def request_as(app, user):
    """A request context with ``user`` logged in and his data scope on the request session (as a view has)."""
    with app.test_request_context("/"):
        establish_scope(db().execute(select(User).where(User.id == user.id)).scalar_one())
        yield g.user


def call(app, hook_name, user=None, **kwargs):
    """Every plugin's answers to one hook, flattened; per-request hooks run inside ``user``'s request."""
    hook = getattr(app.extensions["guanxi"].hook, hook_name)
    if user is None:
        return [item for group in hook(**kwargs) for item in (group or [])]
    with request_as(app, user) as principal:
        kwargs.setdefault("user", principal)
        return [item for group in hook(**kwargs) for item in (group or [])]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def customer(gx, customer_id):
    with gx.system_session("test: load customer") as session:
        return session.execute(select(Customer).where(Customer.id == customer_id)).scalar_one()


# ---------------------------------------------------------------------------------------------- docs

def test_every_hookspec_has_a_docstring():
    undocumented = [f.__name__ for f in hookdocs.hookspecs() if not (f.__doc__ or "").strip()]
    assert hookdocs.hookspecs(), "no hook specs found in hooks.py"
    assert undocumented == []


def test_reference_page_matches_hooks_py():
    rendered = hookdocs.render()
    for spec in hookdocs.hookspecs():
        assert f"## `{spec.__name__}`" in rendered
    assert (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8") == rendered, \
        "docs/hooks.md is stale: run `python -m core.hookdocs > docs/hooks.md`"


def test_every_hook_is_implemented_and_has_a_trigger_test():
    specs = {f.__name__ for f in hookdocs.hookspecs()}
    implemented = {name for name in dir(HookCheckPlugin) if hasattr(getattr(HookCheckPlugin, name), "guanxi_impl")}
    triggered = {name.removeprefix("test_hook_") for name in vars(sys.modules[__name__])
                 if name.startswith("test_hook_")}
    assert implemented == specs
    assert triggered == specs


def test_plugin_registered_every_hook(hook_gx):
    info = hook_gx.modules[NAME]
    assert info.loaded
    assert set(info.hooks) == {f.__name__ for f in hookdocs.hookspecs()}


# ---------------------------------------------------------------------------------------------- start-up hooks

def test_hook_register_models(hook_gx):
    assert hook_gx.model_owner["hookcheck_note"] == NAME
    assert HookNote.__table__.info["owner"] == NAME


def test_hook_register_blueprints(hook_app, world, client_as):
    org = world["org"]
    assert "hookcheck.ping" in hook_app.view_functions
    assert page(client_as(org.boss, hook_app), "/hookcheck/ping") == "pong from hookcheck"
    assert client_as(org.rep_east, hook_app).get("/hookcheck/ping").status_code == 403


def test_hook_register_permissions(hook_gx):
    names = {p.name for p in hook_gx.permissions}
    assert {f"hookcheck.note.{action}" for action in ("view", "create", "edit", "delete")} <= names


def test_hook_register_roles(hook_gx, world):
    with hook_gx.system_session("test: read boss grants") as session:
        boss = session.execute(select(Role).where(Role.key == "boss")).scalar_one()
        grants = {g.permission: g.level for g in boss.grants}
    assert grants["hookcheck.note.view"] == "all"


def test_hook_entity_specs(hook_app, hook_gx, world, api_as):
    spec = hook_gx.entities["hookcheck_note"]
    assert spec.model is HookNote and spec.module == NAME
    assert spec.permission("view") == "hookcheck.note.view"
    # the spec alone is enough for the generic API to serve the entity, with the plugin's permissions
    listing = api_as(world["org"].boss, hook_app).get("/api/v1/hookcheck_note")
    assert [item["title"] for item in listing.get_json()["items"]] == ["a note from the hook check"]
    assert api_as(world["org"].rep_east, hook_app).get("/api/v1/hookcheck_note").status_code == 403


def test_hook_app_configured(hook_app):
    assert PLUGIN.configured_apps.count(hook_app) == 1


# ---------------------------------------------------------------------------------------------- data scope

def test_hook_entity_scope_filter(hook_app, app, world, client_as):
    org, ids = world["org"], world["customers"]

    def visible(target):
        with request_as(target, org.rep_west):  # the DataScope of the request session, built from the hook
            return {c.id for c in db().execute(select(Customer)).scalars()}

    assert visible(hook_app) == {ids["own"], ids["shared"]}
    assert visible(app) == {ids["own"]}  # the same user without the plugin: his own rows only
    listing = page(client_as(org.rep_west, hook_app), "/r/customer/")
    assert "Shared East" in listing and "East Private" not in listing


# ---------------------------------------------------------------------------------------------- per-request hooks

def test_hook_menu_items(hook_app, world, client_as):
    org = world["org"]
    items = call(hook_app, "menu_items", user=org.boss)
    assert any(item.endpoint == "hookcheck.ping" for item in items)
    html = page(client_as(org.boss, hook_app), "/")
    assert "Hook-check notes" in html and 'href="/hookcheck/ping"' in html
    # the host drops entries whose permission the user lacks
    assert "Hook-check notes" not in page(client_as(org.rep_east, hook_app), "/")


def test_hook_record_panels(hook_app, hook_gx, world, client_as):
    shared = customer(hook_gx, world["customers"]["shared"])
    boss = world["org"].boss
    panels = call(hook_app, "record_panels", entity="customer", record=shared, user=boss)
    assert [p.context["marker"] for p in panels if p.key == "hookcheck"] == ["panel for Shared East"]
    assert "hookcheck" not in [p.key for p in call(hook_app, "record_panels", entity="contact", record=shared,
                                                   user=boss)]
    html = page(client_as(boss, hook_app), f"/r/customer/{shared.id}")
    assert "Hook-check panel" in html and "panel for Shared East" in html


def test_hook_record_actions(hook_app, hook_gx, world, client_as):
    shared = customer(hook_gx, world["customers"]["shared"])
    actions = call(hook_app, "record_actions", entity="customer", record=shared, user=world["org"].boss)
    assert "hookcheck.act" in [a.key for a in actions]
    assert "Hook-check action" in page(client_as(world["org"].boss, hook_app), f"/r/customer/{shared.id}")


def test_hook_list_actions(hook_app, world, client_as):
    boss = world["org"].boss
    assert "hookcheck.bulk" in [a.key for a in call(hook_app, "list_actions", entity="customer", user=boss)]
    assert "hookcheck.bulk" not in [a.key for a in call(hook_app, "list_actions", entity="product", user=boss)]
    assert "Hook-check bulk" in page(client_as(boss, hook_app), "/r/customer/")


def test_hook_dashboard_widgets(hook_app, world, client_as):
    widgets = [w for w in call(hook_app, "dashboard_widgets", user=world["org"].boss) if w.key == "hookcheck"]
    assert [w.load() for w in widgets] == [{"marker": "widget loaded for boss"}]
    assert "widget loaded for boss" in page(client_as(world["org"].boss, hook_app), "/")


# ---------------------------------------------------------------------------------------------- other registries

def test_hook_search_providers(hook_app):
    assert SEARCH_PROVIDER in call(hook_app, "search_providers")


def test_hook_custom_field_types(hook_app):
    assert FIELD_TYPE in call(hook_app, "custom_field_types")


def test_hook_scheduled_jobs(hook_app, hook_gx, world):
    queue = jobs.jobs_for(hook_app)
    assert queue.scheduled["hookcheck.tick"].function is tick
    assert "hookcheck.tick" in queue.periodic_names()

    jobs.enqueue(hook_app, "hookcheck.tick")  # QUEUE=memory: runs at once, as the worker would

    assert queue.last_run("hookcheck.tick")["status"] == "done"
    with hook_gx.system_session("test: read tick") as session:
        ticks = session.execute(select(Setting).where(Setting.key.startswith("hookcheck.tick."))).scalars().all()
    assert [t.value for t in ticks] == [{"ticked": True}]


def test_hook_cli_commands(hook_app, monkeypatch):
    from core import cli

    assert hookcheck_command in call(hook_app, "cli_commands")
    monkeypatch.setattr(cli, "make_app", lambda: hook_app)  # `guanxi` would build this app from GUANXI_*

    listing = CliRunner().invoke(cli.main, ["--help"])
    ran = CliRunner().invoke(cli.main, [NAME])

    assert NAME in listing.output
    assert ran.exit_code == 0, ran.output
    assert ran.output == "hookcheck command ran\n"


def test_hook_settings_schema(hook_gx):
    answers = [answer for answer in hook_gx.hook.settings_schema() if answer]
    assert (NAME, HookCheckSettings) in answers


def test_hook_merge_records(hook_app, world, client_as, csrf):
    org, ids = world["org"], world["customers"]
    boss = client_as(org.boss, hook_app)
    PLUGIN.merges.clear()
    response = boss.post("/dedupe/customer/merge", data={
        "csrf_token": csrf(boss), "ids": [str(ids["own"]), str(ids["private"])], "survivor_id": str(ids["own"]),
        "confirm": "1"})
    assert response.status_code == 302
    assert PLUGIN.merges == [("customer", ids["own"], [ids["private"]], "system", [ids["private"]])]


def test_hook_pool_deal_dates(hook_gx, world):
    ids = world["customers"]
    with hook_gx.system_session("test: ask for deal dates") as session:
        answers = hook_gx.hook.pool_deal_dates(session=session, customer_ids=list(ids.values()))
    # one answer per implementing plugin; ours knows the shared customer's deal, and nobody knows a deal of
    # the two customers without one
    assert {ids["shared"]: DEAL_DAY} in answers
    assert not [answer for answer in answers if {ids["own"], ids["private"]} & set(answer or {})]


def test_hook_demo_data(hook_app, hook_gx, world, monkeypatch):
    from core import demo
    monkeypatch.setattr(demo, "hash_password", lambda password: "not-a-real-hash")  # argon2: speed only
    PLUGIN.demos.clear()
    with hook_app.test_request_context(), hook_gx.system_session("test: demo") as session:
        demo.generate(session, seed=11, customers=8, today=datetime.date(2030, 3, 1))
    assert PLUGIN.demos == [("system", sorted(login for login, *_rest in demo.USERS), 8, True, 11,
                             datetime.date(2030, 3, 1))]
    with hook_gx.system_session("test: read the note") as session:
        assert session.execute(select(HookNote.title).where(HookNote.title == "demo note 11")).scalar() is not None


def test_hook_deal_chain(hook_app, hook_gx, world, client_as):
    from core.chain import collect
    shared = customer(hook_gx, world["customers"]["shared"])
    boss = world["org"].boss
    with request_as(hook_app, boss) as principal:  # as the detail page asks: the request's scoped session
        answers = hook_gx.hook.deal_chain(entity="customer", record=shared, user=principal, session=db())
        assert ["hookcheck_payments", "hookcheck_contracts"] in [[s.key for s in a or []] for a in answers]
        chain = collect("customer", shared, principal)
    ours = [stage.key for stage in chain.stages if stage.key.startswith("hookcheck")]
    assert ours == ["hookcheck_contracts", "hookcheck_payments"]  # core puts them in position order
    html = page(client_as(boss, hook_app), f"/r/customer/{shared.id}")
    assert "contract of Shared East" in html and "paid by Shared East" in html
    assert html.index("Hook-check contracts") < html.index("Hook-check payments")


def test_hook_orders_paid_amounts(hook_gx, world):
    with hook_gx.system_session("test: ask for paid amounts") as session:
        answers = hook_gx.hook.orders_paid_amounts(session=session, order_ids=[7, 9])
    # one answer per implementing plugin (orders' own callers add them up); ours knows both orders
    assert {7: Decimal("1.50"), 9: Decimal("1.50")} in answers


def test_hook_record_delete_blockers(hook_app, world, client_as, api_as, csrf):
    from core.models import Customer as CustomerModel
    org, ids = world["org"], world["customers"]
    boss = client_as(org.boss, hook_app)
    page = boss.post(f"/r/customer/{ids['shared']}/delete", data={"csrf_token": csrf(boss)})
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/r/customer/{ids['shared']}")
    assert "still referred to by a hook-check note" in boss.get(page.headers["Location"]).get_data(as_text=True)
    api = api_as(org.boss, hook_app)
    answer = api.delete(f"/api/v1/customer/{ids['shared']}")
    assert answer.status_code == 422
    assert answer.get_json()["fields"]["_schema"] == ["Shared East is still referred to by a hook-check note."]
    assert api.delete(f"/api/v1/customer/{ids['own']}").status_code == 204  # nobody objects to this one
    with hook_app.extensions["guanxi"].system_session("test: check") as session:
        deleted = dict(session.execute(select(CustomerModel.id, CustomerModel.deleted_at).where(
            CustomerModel.id.in_([ids["shared"], ids["own"]])).execution_options(include_deleted=True)).all())
    assert deleted[ids["shared"]] is None and deleted[ids["own"]] is not None
