"""The ``guanxi`` command line: set-up, demo data, servers, users, migrations, modules and licences.

Every command builds the app with ``core.app.create_app()`` (settings from ``GUANXI_*``) and works in a
session with the explicit, logged system scope. Commands contributed by modules through ``cli_commands()``
are mounted next to the built-in ones. User errors print a message and exit with status 1 (no traceback).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from pathlib import Path

import click
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

STARTUP_ERRORS = (RuntimeError, ValueError)  # core.plugins.PluginError is a RuntimeError


# ================================================================== plumbing

def make_app():
    """The app, or a clean "Cannot start: <reason>" when a module or the configuration is broken."""
    from core.app import create_app
    try:
        return create_app()
    except STARTUP_ERRORS as exc:
        raise click.ClickException(f"Cannot start: {exc}") from None


@contextlib.contextmanager
def system(reason: str):
    """``(app, gx, session)`` inside an app context, in the user-chosen default language, system scope."""
    from flask_babel import force_locale
    app = make_app()
    gx = app.extensions["guanxi"]
    try:
        with app.app_context(), force_locale(app.config["DEFAULT_LANGUAGE"]), \
                gx.system_session(reason) as session:
            with user_errors():
                yield app, gx, session
    finally:
        gx.engine.dispose()


@contextlib.contextmanager
def user_errors():
    """Service refusals become one readable message and exit status 1."""
    from core.i18n import plain
    from core.services import Forbidden, NotFound
    try:
        yield
    except ValidationError as exc:
        messages = plain(exc.messages) if isinstance(exc.messages, dict) else {"error": plain(exc.messages)}
        raise click.ClickException("\n".join(f"{field}: {message}" for field, items in messages.items()
                                             for message in items)) from None
    except (Forbidden, NotFound) as exc:
        raise click.ClickException(f"refused: {exc}") from None


class GuanxiGroup(click.Group):
    """Built-in commands plus the commands every enabled module returns from ``cli_commands()``."""

    def list_commands(self, ctx):
        names = super().list_commands(ctx)
        return names + sorted(set(self._module_commands(ctx, quiet=True)) - set(names))

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._module_commands(ctx, quiet=False).get(name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(f"Database unavailable: {exc.orig}") from None

    @staticmethod
    def _module_commands(ctx, quiet) -> dict:
        root = ctx.find_root()
        if "guanxi_module_commands" not in root.meta:
            try:
                app = make_app()
            except click.ClickException:
                if quiet:
                    return {}
                raise
            # Module commands run inside the app context, closed with the command line.
            root.with_resource(app.app_context())
            root.call_on_close(app.extensions["guanxi"].engine.dispose)
            commands = [cmd for group in app.extensions["guanxi"].hook.cli_commands() for cmd in group or []]
            root.meta["guanxi_module_commands"] = {cmd.name: cmd for cmd in commands}
        return root.meta["guanxi_module_commands"]


@click.group(cls=GuanxiGroup)
def main():
    """Guanxi CRM administration (settings come from GUANXI_* environment variables)."""


def _echo_rows(rows, headers):
    widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _read_password(prompt_text, env_name=None):
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    return click.prompt(prompt_text, hide_input=True, confirmation_prompt=True)


def _user_by_login(session, login):
    from core.models import User
    user = session.execute(select(User).where(User.login == login)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No user with login {login!r}.")
    return user


def _migrate_and_seed(gx, session):
    from core import migrate
    from core.seed import seed_roles
    migrate.upgrade(gx)
    seed_roles(session, gx)


# ================================================================== init, demo, run, worker

@main.command()
@click.option("--admin-login", default="admin", show_default=True, help="Login of the first administrator.")
def init(admin_login):
    """Migrate the database, seed the stock roles and create the first administrator (idempotent).

    The password comes from GUANXI_ADMIN_PASSWORD or is asked for (hidden, twice)."""
    from core.models import Role, User
    with system("guanxi init") as (_app, gx, session):
        _migrate_and_seed(gx, session)
        click.echo("Database migrated; stock roles in place.")
        admin_role = session.execute(select(Role).where(Role.key == "admin")).scalar_one()
        holders = [u for u in session.execute(select(User).where(User.active.is_(True))).scalars()
                   if admin_role in u.roles]
        if holders:
            click.echo(f"An administrator exists already: {holders[0].login}.")
            return
        _create_admin(session, admin_login, admin_role)


def _create_admin(session, login, admin_role):
    from core import orgservice
    password = _read_password(f"Password for {login}", "GUANXI_ADMIN_PASSWORD")
    user = orgservice.create_user(session, {"login": login, "name": "Administrator", "password": password,
                                            "role_ids": [admin_role.id], "active": True})
    click.echo(f"Administrator {user.login} created.")


@main.command()
@click.option("--force", is_flag=True, help="Add the demo data even though customers exist.")
@click.option("--if-empty", is_flag=True, help="When data exists, only print the saved demo logins.")
@click.option("--seed", default=2024, show_default=True, help="Random seed (same seed, same data).")
def demo(force, if_empty, seed):
    """Initialise if needed and fill the database with the demo company; print every demo login."""
    from core import demo as demo_data
    from core.models import Customer
    with system("guanxi demo") as (app, gx, session):
        _migrate_and_seed(gx, session)
        has_customers = session.execute(select(func.count(Customer.id)).execution_options(
            include_deleted=True)).scalar_one() > 0
        logins_file = Path(app.instance_path) / "demo-logins.txt"
        if has_customers and not force:
            if if_empty:
                click.echo("The database has data already; demo logins saved earlier:")
                click.echo(logins_file.read_text(encoding="utf-8") if logins_file.exists() else "  (none saved)")
                return
            raise click.ClickException("The database has customers already: use --force to add demo data.")
        started = dt.datetime.now()
        logins = demo_data.generate(session, seed=seed)
        text = _save_demo_logins(logins_file, logins)
        seconds = (dt.datetime.now() - started).total_seconds()
        click.echo(f"Demo data for {demo_data.COMPANY} written in {seconds:.1f} s. Logins:")
        click.echo(text)


def _save_demo_logins(path: Path, logins) -> str:
    """Keep the generated passwords (mode 0600) so later runs can print them again; returns the text."""
    saved = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                saved[parts[0]] = parts[1]
    lines = []
    for entry in logins:
        password = entry.password or saved.get(entry.login, "(unchanged)")
        lines.append(f"{entry.login:<15} {password:<18} {entry.role:<14} {entry.name}")
    text = "\n".join(lines) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return text


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host, port):
    """Serve the app with the Flask development server (threaded). Use gunicorn in production."""
    app = make_app()
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)


@main.command()
def worker():
    """Run a job worker (scheduled jobs, imports, exports, mail, backups)."""
    app = make_app()
    from core.jobs import run_worker
    run_worker(app)


# ================================================================== users

@main.group()
def user():
    """Create, list and manage user accounts."""


@user.command("create")
@click.option("--login", required=True)
@click.option("--name", required=True)
@click.option("--email", default="")
@click.option("--phone", default="")
@click.option("--department", "department_id", type=int, default=None, help="Department id.")
@click.option("--role", "roles", multiple=True, help="Role key (repeatable), e.g. salesperson.")
@click.option("--inactive", is_flag=True, help="Create the account switched off.")
def user_create(login, name, email, phone, department_id, roles, inactive):
    """Create a user; the password is asked for (hidden, twice)."""
    from core import orgservice
    from core.models import Role
    with system("guanxi user create") as (_app, _gx, session):
        found = {r.key: r for r in session.execute(select(Role).where(Role.key.in_(roles))).scalars()}
        unknown = sorted(set(roles) - set(found))
        if unknown:
            raise click.ClickException(f"Unknown role(s): {', '.join(unknown)}")
        password = _read_password(f"Password for {login}")
        created = orgservice.create_user(session, {
            "login": login, "name": name, "email": email, "phone": phone, "department_id": department_id,
            "role_ids": [found[k].id for k in roles], "active": not inactive, "password": password})
        click.echo(f"User {created.login} created (id {created.id}).")


@user.command("passwd")
@click.argument("login")
def user_passwd(login):
    """Set a new password for LOGIN (ends all the user's sessions)."""
    from core import orgservice
    with system("guanxi user passwd") as (_app, _gx, session):
        target = _user_by_login(session, login)
        orgservice.set_password(session, target.id, _read_password(f"New password for {login}"))
        click.echo(f"Password of {login} changed; the user was logged out everywhere.")


@user.command("list")
def user_list():
    """List every user account."""
    from core.models import User
    with system("guanxi user list") as (_app, _gx, session):
        users = session.execute(select(User).order_by(User.login)).scalars().all()
        rows = [(u.id, u.login, u.name, u.department.name if u.department else "-",
                 ",".join(sorted(r.key for r in u.roles)) or "-", "active" if u.active else "inactive")
                for u in users]
        _echo_rows(rows, ("id", "login", "name", "department", "roles", "status"))


@user.command("deactivate")
@click.argument("login")
def user_deactivate(login):
    """Switch LOGIN off and end all his sessions."""
    from core import orgservice
    with system("guanxi user deactivate") as (_app, _gx, session):
        orgservice.deactivate_user(session, _user_by_login(session, login).id)
        click.echo(f"User {login} deactivated.")


# ================================================================== database

@main.group("db")
def db_group():
    """Database migrations (core first, then every enabled module)."""


@db_group.command("upgrade")
def db_upgrade():
    """Apply every pending migration and add missing stock-role grants."""
    with system("guanxi db upgrade") as (_app, gx, session):
        _migrate_and_seed(gx, session)
        click.echo("Database upgraded.")


@db_group.command("current")
def db_current():
    """Show the revision of every lineage."""
    from core import migrate
    with system("guanxi db current") as (_app, gx, _session):
        for owner, revision in migrate.current(gx).items():
            click.echo(f"{owner}: {revision or '(empty)'}")


@db_group.command("heads")
def db_heads():
    """Show the newest revision available for every lineage."""
    from core import migrate
    with system("guanxi db heads") as (_app, gx, _session):
        for owner, revision in migrate.heads(gx).items():
            click.echo(f"{owner}: {revision}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--module", "owner", default="core", show_default=True, help="Whose lineage gets the script.")
@click.option("--empty", is_flag=True, help="Do not autogenerate from the models.")
def db_revision(message, owner, empty):
    """Create a migration script for a module (autogenerated from its models)."""
    from core import migrate
    with system("guanxi db revision") as (_app, gx, _session):
        if owner not in migrate.owners_in_order(gx):
            raise click.ClickException(f"Module {owner!r} is not enabled or has no migrations folder.")
        migrate.revision(gx, owner, message, autogenerate=not empty)
        click.echo(f"Revision created for {owner}.")


# ================================================================== modules

@main.group("customfields")
def customfields_group():
    """Custom field definitions (module builder): move a customisation between systems."""


@customfields_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def customfields_export(path):
    """Write every custom field definition to one JSON file."""
    import json
    from core.customfields import service
    with system("guanxi customfields export") as (_app, _gx, session):
        document = service.export_document(session)
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    click.echo(f"{len(document['fields'])} field definitions written to {path}")


@customfields_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def customfields_import(path):
    """Create or update definitions from an export file (matched by entity and key; twice = no change)."""
    import json
    from core.customfields import service
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Not a JSON file: {exc}") from None
    with system("guanxi customfields import") as (_app, _gx, session):
        counts = service.import_document(session, document)
    click.echo("{created} new, {updated} changed, {unchanged} unchanged".format(**counts))


@main.group("search")
def search_group():
    """Global search index."""


@search_group.command("reindex")
@click.option("--entity", "entities", multiple=True, help="Only this entity (repeatable); default: all.")
def search_reindex(entities):
    """Rebuild the search index from the records (after an upgrade or a bulk load outside Guanxi)."""
    from core import search
    with system("guanxi search reindex") as (_app, gx, session):
        providers = search.providers(gx)
        unknown = set(entities) - {p.entity for p in providers}
        if unknown:
            raise click.ClickException(f"No search provider for: {', '.join(sorted(unknown))}")
        for provider in providers:
            if entities and provider.entity not in entities:
                continue
            started = dt.datetime.now()
            tokens = search.reindex_entity(session, provider.spec)
            seconds = (dt.datetime.now() - started).total_seconds()
            click.echo(f"{provider.entity}: {tokens} tokens in {seconds:.1f} s")


@main.group()
def plugins():
    """Installed modules and the administrator's enable/disable switches."""


@plugins.command("list")
def plugins_list():
    """Show installed / enabled / licensed modules and why a module is not loaded."""
    with system("guanxi plugins list") as (_app, gx, session):
        from core import orgservice
        choices = orgservice.module_states(session)
        rows = [(i.name, i.version or "-", "yes" if i.installed else "no", "yes" if i.loaded else "no",
                 "yes" if i.licensed else "no", "off" if choices.get(i.name) is False else "on",
                 i.reason or "-") for i in sorted(gx.modules.values(), key=lambda i: i.name)]
        _echo_rows(rows, ("module", "version", "installed", "enabled", "licensed", "admin", "reason"))


def _set_module(name, enabled):
    from core import orgservice
    reason = f"guanxi plugins {'enable' if enabled else 'disable'} {name}"
    try:
        with system(reason) as (_app, _gx, session):
            orgservice.set_module_enabled(session, name, enabled)
    except click.ClickException as exc:
        if not exc.message.startswith("Cannot start:"):
            raise
        # The app does not start (e.g. this very module is broken): switch it without loading any module.
        click.echo(f"{exc.message}\nSwitching the module without starting the app.", err=True)
        with _repair_session(reason) as (session, installed):
            orgservice.set_module_enabled(session, name, enabled, installed=installed)
    click.echo(f"Module {name} {'enabled' if enabled else 'disabled'}; restart the app servers and workers.")


@contextlib.contextmanager
def _repair_session(reason):
    """A system-scope session on the configured database, with the names of the installed modules."""
    from core.config import load_settings
    from core.db import make_engine, make_session_factory
    from core.plugins import installed_entry_points
    from core.scope import system_scope
    engine = make_engine(load_settings()["DATABASE_URL"])
    session = make_session_factory(engine)()
    try:
        with system_scope(session, reason), user_errors():
            yield session, set(installed_entry_points())
    finally:
        session.close()
        engine.dispose()


@plugins.command("enable")
@click.argument("name")
def plugins_enable(name):
    """Switch module NAME on (applies at the next start)."""
    _set_module(name, True)


@plugins.command("disable")
@click.argument("name")
def plugins_disable(name):
    """Switch module NAME off (its data stays; applies at the next start)."""
    _set_module(name, False)


# ================================================================== licences

@main.group()
def license():  # noqa: A001 — the command is called "license"
    """Inspect licence files; vendor tools to create keys and sign licences."""


@license.command("inspect")
@click.argument("path", type=click.Path(dir_okay=False))
def license_inspect(path):
    """Print a licence file and whether the configured vendor keys accept it (exit 1 if not)."""
    from core import licence as licence_mod
    from core.config import load_settings, split_list
    keys = split_list(load_settings()["VENDOR_PUBLIC_KEYS"])
    found = licence_mod.load(path, keys)
    click.echo(f"licensee: {found.licensee or '-'}")
    click.echo(f"modules:  {', '.join(found.modules) or '-'}")
    click.echo(f"seats:    {found.seats if found.seats is not None else 'unlimited'}")
    click.echo(f"expires:  {found.expires.isoformat() if found.expires else '-'}")
    if not found.valid:
        click.echo(f"INVALID: {found.problem}")
        sys.exit(1)
    click.echo("valid")


@license.command("keygen")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Private key file (PEM).")
def license_keygen(out):
    """Create a vendor Ed25519 key pair: the private key goes to --out, the public key is printed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.licence import public_key_b64
    if Path(out).exists():
        raise click.ClickException(f"{out} exists already; refusing to overwrite a key.")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    click.echo(public_key_b64(key))


@license.command("sign")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--licensee", required=True)
@click.option("--modules", required=True, help="Comma-separated module names, or * for all.")
@click.option("--seats", type=click.IntRange(min=1), default=None, help="Active users allowed (default: no limit).")
@click.option("--expires", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def license_sign(key_path, licensee, modules, seats, expires, out):
    """Sign a licence with the vendor private key."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.config import split_list
    from core.licence import sign
    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"Cannot read the private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise click.ClickException("The key is not an Ed25519 private key.")
    names = split_list(modules)
    if not names:
        raise click.ClickException("--modules needs at least one module name (or *).")
    payload = {"licensee": licensee, "modules": names, "seats": seats, "expires": expires.date().isoformat()}
    Path(out).write_text(json.dumps(sign(payload, key), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    click.echo(f"Licence for {licensee} written to {out}.")
