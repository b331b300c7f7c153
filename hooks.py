"""Guanxi hook specifications.

Every extension point of Guanxi is one function below. Core registers its own features through the same
hooks (``core/plugin.py``), so a third-party plugin is never second class. ``docs/hooks.md`` is generated from
this file (``python -m core.hookdocs``) and a test fails when the two differ or a hook lacks a docstring.

Conventions: ``register_*`` run once at start-up; ``*_items``/``*_panels``/``*_widgets``/``*_actions`` run per
request and return lists; hooks ending in ``_for``/``_filter`` are ``firstresult`` overrides.
"""
import pluggy

hookspec = pluggy.HookspecMarker("guanxi")
hookimpl = pluggy.HookimplMarker("guanxi")


@hookspec
def register_models():
    """Return a list of SQLAlchemy mapped classes the plugin owns.

    Called once at start-up, before any blueprint. Table names start with ``<plugin>_``; a plugin never
    redefines a core table (it may add foreign keys to core tables). The host checks the prefix and fails
    start-up on a clash.
    """


@hookspec
def register_blueprints(app):
    """Register the plugin's Flask blueprint(s) on ``app``.

    Called once at start-up after models. Blueprints are named after the plugin and carry a ``url_prefix``.
    Every view must be wrapped in ``core.authz.requires(...)`` or ``core.authz.public``; a test walks
    ``app.url_map`` and fails on an undeclared endpoint. Return value is ignored.
    """


@hookspec
def register_permissions():
    """Return a list of ``core.permissions.Permission`` objects.

    Called once at start-up. Names are ``<module>.<entity>.<action>``; the first segment must be the
    plugin's name. ``scoped=True`` permissions are granted with a data scope (own/team/all), the others are
    simply granted or not. Duplicate names stop start-up.
    """


@hookspec
def register_roles():
    """Return a list of ``core.permissions.StockRole`` grants to merge into the stock roles.

    Called once at start-up and by ``guanxi init``/``guanxi db upgrade`` to seed or extend the stock roles
    (admin, boss, sales_manager, salesperson, service, procurement) with the plugin's permissions. Existing
    grants that an administrator changed are left alone.
    """


@hookspec
def entity_specs():
    """Return a list of ``core.entities.EntitySpec``.

    The one registry that drives the REST API, list and detail pages, export, global search, custom fields
    and the leak-matrix tests. Called once at start-up; the result is cached on the app.
    """


@hookspec(firstresult=True)
def entity_scope_filter(entity, user, level, model):
    """Return a SQLAlchemy boolean expression that limits ``model`` rows for ``user`` at ``level``, or None.

    ``firstresult``: the first non-None answer wins, otherwise the standard owner/department rule applies.
    ``level`` is ``"own"`` or ``"team"`` (``"all"`` and ``"none"`` are never asked). Called once per request
    and entity when the data scope is built; the expression must only use columns of ``model`` and
    subqueries over other scoped models (which are filtered too).
    """


@hookspec
def menu_items(user):
    """Return a list of ``core.ui.MenuItem`` for the navigation bar.

    Called per request for the logged-in ``user``. Entries whose ``permission`` the user lacks are dropped
    by the host; items are sorted by ``(section, order)``.
    """


@hookspec
def record_panels(entity, record, user):
    """Return a list of ``core.ui.Panel`` (title, template, context) for a detail page.

    Called per request when ``user`` opens the detail page of ``record`` of ``entity``. Panels load their
    rows through the scoped session, so they can never show what the user may not see.
    """


@hookspec
def record_actions(entity, record, user):
    """Return a list of ``core.ui.Action`` (label, url, method, permission) for a detail page."""


@hookspec
def list_actions(entity, user):
    """Return a list of ``core.ui.Action`` offered as bulk actions on the list page of ``entity``."""


@hookspec
def dashboard_widgets(user):
    """Return a list of ``core.ui.Widget`` for ``user``'s dashboard.

    Called per dashboard request. Loaders query the scoped session; a widget must not bypass the scope.
    """


@hookspec
def search_providers():
    """Return a list of ``core.search.SearchProvider`` for the global search box.

    Called once at start-up. Every provider searches through the scoped session.
    """


@hookspec
def custom_field_types():
    """Return a list of ``core.customfields.FieldType`` instances: extra types for the module builder.

    Called when definitions are validated and schemas are built (cached per definitions version). Each type
    has a unique ``key`` and gives its marshmallow field (``inner_field``), stored JSON form (``store``),
    form widget name, display formatter (``format``) and ONE SQL expression builder per dialect
    (``expression``) used for filters, sorting and the optional expression index. Core types win on a key
    clash; objects that are not ``FieldType`` instances are ignored.
    """


@hookspec
def scheduled_jobs():
    """Return a list of ``core.jobs.ScheduledJob`` (name, crontab kwargs, function).

    Called once when the job queue is configured. Each function runs in the worker under an explicit,
    logged ``system_scope()``.
    """


@hookspec
def cli_commands():
    """Return a list of click commands or groups, mounted under ``guanxi <name>``. Called once by the CLI."""


@hookspec
def settings_schema():
    """Return ``(plugin_name, marshmallow_schema_class)`` for the plugin's admin settings page, or None."""


@hookspec(historic=True)
def app_configured(app):
    """Last start-up step, once per app; subscribe to ``core.signals`` here. Historic: late plugins get it too."""


@hookspec
def merge_records(entity, survivor_id, merged_ids, session):
    """Re-link the plugin's rows that point at records being merged; return value ignored.

    Called by ``core.dedupe.merge`` when a user merges duplicate records of ``entity`` (``"customer"`` or
    ``"contact"``): every row of the plugin's tables that refers to one of ``merged_ids`` must be changed to
    refer to ``survivor_id`` (e.g. ``UPDATE visits_site_visit SET customer_id = survivor_id WHERE customer_id
    IN merged_ids``), soft-deleted rows included (``execution_options(include_deleted=True)``). ``session``
    runs under an explicit system scope for this call, so rows the merging user cannot see are re-linked too.
    Called inside the merge's one transaction, after core re-linked its own rows and before the merged
    records go to the recycle bin: do not commit; raising an exception rolls the whole merge back.
    """


@hookspec
def pool_deal_dates(session, customer_ids):
    """Return ``{customer_id: datetime.date}``: each customer's latest deal among ``customer_ids``.

    A deal is whatever the plugin counts as business done: a won opportunity, a signed contract, a paid
    order... Customers without a deal are absent from the answer. Called by the customer pool's rules job,
    in batches of ids, with ``session`` under an explicit system scope; the job takes the latest date over
    every plugin's answer. Query set-based (one ``GROUP BY`` over ``customer_ids``), never per customer.
    """


@hookspec
def demo_data(session, users, customers, seed, today):
    """Add the plugin's demo rows to the demo company; return value ignored.

    Called once by ``guanxi demo`` (``core.demo.generate``) after core wrote its departments, users,
    customers, contacts, follow-ups and products, and before the one commit. ``session`` runs under an
    explicit system scope. ``users`` maps each demo login (``core.demo.USERS``) to its ``User``, roles loaded:
    own rows only by salespeople and sales managers, with the owner's ``department_id``. ``customers`` is a
    list of ``(customer, contacts)`` pairs, flushed (ids set). ``seed`` is the demo's seed: draw from your
    own ``random.Random(f"<plugin>-{seed}")`` so your rows are deterministic for a seed and do not change
    when other modules are enabled or disabled; ``today`` (a date) anchors every date. Write in bulk
    (``add_all``, a few flushes, no per-row queries: the demo runs at first start) and never commit.
    Ordering: unlike other hooks, the implementations are called in dependency order (``REQUIRES``: a
    module after the modules it requires), so a demo may read the demo rows of the modules it builds on.
    """


@hookspec
def deal_chain(entity, record, user, session):
    """Return a list of ``core.chain.ChainStage``: this module's part of the quote-to-cash chain of ``record``.

    Called when ``user`` opens the detail page of ``record`` of ``entity`` (``"customer"``, ``"project"``,
    ``"opportunity"``, ``"contract"``, ``"order"``, ...); return ``[]`` for anchors the module does not know.
    Read only through ``session`` (the request's scoped session), so the chain shows what the user may see.
    A stage has a ``position`` (``core.chain.POSITIONS``: quotes 10 ... invoices 80), ``rows`` (``ChainRow``:
    label, url, status label, amount, currency) and ``totals``: kind (``"contracted"``, ``"shipped"``,
    ``"invoiced"``, ``"received"``) -> currency -> ``Decimal``. Core sorts the stages, adds up the totals of
    all stages per kind and currency, derives outstanding = contracted - received, and shows the panel
    "Quote to cash" when any stage comes back. Query set-based (a few queries per stage, never per row).
    Implementations may omit the ``session`` argument and use ``core.runtime.db()``.
    """


@hookspec
def record_delete_blockers(entity, record, session):
    """Return a list of messages (translatable strings) saying why ``record`` must not be deleted, or ``[]``.

    Called by ``core.services.delete`` inside the delete transaction, before anything is written, for every
    record of every entity (web page, API), with the caller's scoped ``session``. A module answers for rows
    of its own that still depend on the record: payments refuse to let a payment plan with payments, or a
    contract or order with payment plans, go to the recycle bin, because the received amounts would then
    count against nothing. Any message refuses the delete: the page shows them, the API answers 422 with
    them under ``_schema``; nothing is changed. Check with one query, and only the entities you know.
    """

@hookspec
def orders_paid_amounts(session, order_ids):
    """Return ``{order_id: Decimal}``: the amount received so far for each order among ``order_ids``.

    Published by the orders module for the module that records payments (``payments`` implements it). The
    amount is in the order's own currency. Orders without any payment may be absent from the answer (they
    count as 0); with no implementation at all every order counts as unpaid. Called by the unpaid-order
    chasing list (催付) and the batch pages with the request's scoped ``session`` (answer only from rows the
    session may see) and a page of ids at a time: query set-based (one ``GROUP BY``), never per order. The
    answers of several implementations are added up.
    """
