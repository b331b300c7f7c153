"""The ``guanxi`` command line, run in-process with click's CliRunner against the test database."""
import datetime as dt
import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import plugin_samples
from core import migrate
from core.cli import main
from core.models import Contact, Customer, FollowUp, ModuleState, Product, User
from core.passwords import verify_password

ADMIN_PASSWORD = "Granite-Teapot-Horizon-731"
USER_PASSWORD = "Willow-Lantern-Seventeen-44"


def fresh(session):
    """End the session's transaction so that the next read sees what the app committed meanwhile
    (MariaDB's repeatable read would otherwise answer from the old snapshot)."""
    session.rollback()
    return session


@pytest.fixture
def cli(app, guanxi_database, tmp_path):
    """``cli(*args, input=None, **env)`` -> click Result; the database was wiped by ``app``."""
    base_env = {"GUANXI_DATABASE_URL": guanxi_database, "GUANXI_INSTANCE_PATH": str(tmp_path / "instance"),
                "GUANXI_QUEUE": "memory", "GUANXI_DEFAULT_LANGUAGE": "en", "GUANXI_SECRET_KEY": "cli-test",
                "GUANXI_MODULES": "*", "GUANXI_LICENSE_FILE": None, "GUANXI_VENDOR_PUBLIC_KEYS": None,
                "GUANXI_ADMIN_PASSWORD": None}

    def run(*args, input=None, **env):
        runner = CliRunner(env={**base_env, **env})
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return run


def user_named(system_session, login):
    return fresh(system_session).execute(select(User).where(User.login == login).execution_options(
        populate_existing=True)).scalar_one_or_none()


def test_init_creates_the_administrator_once(cli, system_session):
    weak = cli("init", GUANXI_ADMIN_PASSWORD="admin-password")
    assert weak.exit_code == 1 and "password:" in weak.output and "Traceback" not in weak.output
    assert user_named(system_session, "admin") is None
    first = cli("init", GUANXI_ADMIN_PASSWORD=ADMIN_PASSWORD)
    assert first.exit_code == 0, first.output
    assert "Administrator admin created." in first.output
    admin = user_named(system_session, "admin")
    assert [r.key for r in admin.roles] == ["admin"] and verify_password(admin.password_hash, ADMIN_PASSWORD)
    from core.models import User
    logins = fresh(system_session).execute(select(User.login)).scalars().all()
    assert logins == ["admin"]  # SECURITY.md 20: no default or demo account after an install
    again = cli("init", GUANXI_ADMIN_PASSWORD="Another-Long-Password-99")
    assert again.exit_code == 0 and "An administrator exists already: admin." in again.output
    assert verify_password(user_named(system_session, "admin").password_hash, ADMIN_PASSWORD)


def test_init_prompts_for_the_password(cli, system_session):
    result = cli("init", "--admin-login", "root_admin", input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert verify_password(user_named(system_session, "root_admin").password_hash, ADMIN_PASSWORD)


def test_user_commands(cli, org, system_session):
    twice = f"{USER_PASSWORD}\n{USER_PASSWORD}\n"
    created = cli("user", "create", "--login", "cli_rep", "--name", "命令行 CLI Rep", "--role", "salesperson",
                  "--department", str(org.departments["west"].id), input=twice)
    assert created.exit_code == 0, created.output
    user = user_named(system_session, "cli_rep")
    assert [r.key for r in user.roles] == ["salesperson"] and user.department_id == org.departments["west"].id
    assert verify_password(user.password_hash, USER_PASSWORD)
    assert cli("user", "create", "--login", "x1", "--name", "X", "--role", "wizard").exit_code == 1

    changed = cli("user", "passwd", "rep_east", input=twice)
    assert changed.exit_code == 0, changed.output
    assert verify_password(user_named(system_session, "rep_east").password_hash, USER_PASSWORD)
    unknown = cli("user", "passwd", "nobody", input=twice)
    assert unknown.exit_code == 1 and "No user with login 'nobody'." in unknown.output

    listing = cli("user", "list")
    assert listing.exit_code == 0
    line = next(row for row in listing.output.splitlines() if " cli_rep " in row)
    assert "salesperson" in line and "active" in line
    assert cli("user", "deactivate", "cli_rep").exit_code == 0
    assert user_named(system_session, "cli_rep").active is False


def test_db_current_and_heads(cli, gx):
    current = cli("db", "current")
    assert current.exit_code == 0
    heads = migrate.heads(gx)
    assert f"core: {heads['core']}" in current.output
    assert f"core: {heads['core']}" in cli("db", "heads").output
    assert cli("db", "upgrade").exit_code == 0


def test_plugins_list_disable_enable(cli, monkeypatch, system_session):
    plugin_samples.install(monkeypatch, "good", "needs_good")
    listing = cli("plugins", "list")
    assert listing.exit_code == 0, listing.output
    assert any(row.split()[:5] == ["good", "-", "yes", "yes", "yes"] for row in listing.output.splitlines())
    assert cli("plugins", "disable", "needs_good").exit_code == 0
    state = fresh(system_session).execute(select(ModuleState).where(ModuleState.name == "needs_good")).scalar_one()
    assert state.enabled is False
    row = next(r for r in cli("plugins", "list").output.splitlines() if r.startswith("needs_good"))
    assert "disabled by an administrator" in row and " off " in row
    assert cli("plugins", "enable", "needs_good").exit_code == 0
    assert fresh(system_session).execute(
        select(ModuleState.enabled).where(ModuleState.name == "needs_good")).scalar_one()
    unknown = cli("plugins", "disable", "ghost")
    assert unknown.exit_code == 1 and "Unknown module." in unknown.output


def test_module_commands_are_mounted(cli, monkeypatch):
    plugin_samples.install(monkeypatch, "good")
    result = cli("sample-hello")
    assert result.exit_code == 0 and "hello from the sample module" in result.output
    assert "sample-hello" in cli("--help").output


def test_start_up_error_is_a_clear_message(cli, monkeypatch):
    plugin_samples.install(monkeypatch, "broken")
    result = cli("user", "list")
    assert result.exit_code == 1
    assert "Cannot start: module 'broken'" in result.output and "Traceback" not in result.output


def test_license_keygen_sign_inspect(cli, tmp_path):
    key = tmp_path / "vendor.pem"
    generated = cli("license", "keygen", "--out", str(key))
    assert generated.exit_code == 0
    public = generated.output.strip()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert cli("license", "keygen", "--out", str(key)).exit_code == 1  # never overwrites a key
    doc = tmp_path / "licence.json"
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    signed = cli("license", "sign", "--key", str(key), "--licensee", "华宏贸易 Huahong", "--modules", "quotes,rfm",
                 "--seats", "25", "--expires", expires, "--out", str(doc))
    assert signed.exit_code == 0, signed.output
    ok = cli("license", "inspect", str(doc), GUANXI_VENDOR_PUBLIC_KEYS=public)
    assert ok.exit_code == 0, ok.output
    assert "华宏贸易 Huahong" in ok.output and "quotes, rfm" in ok.output and "25" in ok.output
    assert expires in ok.output and ok.output.strip().endswith("valid")
    foreign = cli("license", "inspect", str(doc), GUANXI_VENDOR_PUBLIC_KEYS="")
    assert foreign.exit_code == 1 and "INVALID: no vendor public key" in foreign.output


def test_demo_generates_the_company_and_prints_logins(cli, system_session, tmp_path):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    for login in ("boss", "admin", "manager_east", "rep_east1", "rep_east_sub", "manager_south", "service",
                  "procurement"):
        line = next(row for row in result.output.splitlines() if row.startswith(f"{login} "))
        password = line.split()[1]
        assert len(password) == 16 and user_named(system_session, login).active
        if login in ("boss", "rep_east_sub"):  # argon2 is slow on purpose: check two of them
            assert verify_password(user_named(system_session, login).password_hash, password)
    customers = fresh(system_session).execute(select(func.count(Customer.id))).scalar_one()
    assert 250 <= customers <= 350
    per_customer = fresh(system_session).execute(
        select(func.count(Contact.id)).group_by(Contact.customer_id)).scalars().all()
    assert len(per_customer) == customers and set(per_customer) <= {1, 2, 3}
    assert fresh(system_session).execute(select(func.count(FollowUp.id))).scalar_one() >= customers
    assert 35 <= fresh(system_session).execute(select(func.count(Product.id))).scalar_one() <= 45
    owners = fresh(system_session).execute(select(func.count(Customer.id)).group_by(Customer.owner_id)).scalars().all()
    assert max(owners) >= 3 * min(owners)  # skewed ownership
    saved = tmp_path / "instance" / "demo-logins.txt"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    again = cli("demo")
    assert again.exit_code == 1 and "--force" in again.output
    quiet = cli("demo", "--if-empty")
    assert quiet.exit_code == 0 and saved.read_text(encoding="utf-8").splitlines()[0] in quiet.output


def test_demo_data_is_deterministic_for_a_seed(app, gx, monkeypatch):
    from core import demo
    from core.testing import wipe
    monkeypatch.setattr(demo, "hash_password", lambda password: "not-a-real-hash")  # speed only

    def names():
        with app.test_request_context(), gx.system_session("test demo") as session:
            demo.generate(session, seed=7, customers=40, today=dt.date(2030, 1, 15))
            rows = session.execute(select(Customer.name, User.login, func.count(FollowUp.id))
                                   .join(User, User.id == Customer.owner_id)
                                   .join(FollowUp, FollowUp.customer_id == Customer.id)
                                   .group_by(Customer.name, User.login).order_by(Customer.name)).all()
        wipe(gx)
        return rows

    first = names()
    assert len(first) == 40 and first == names()


def test_a_broken_module_can_be_switched_off_from_the_command_line(cli, monkeypatch, system_session):
    plugin_samples.install(monkeypatch, "good", "broken")
    assert cli("user", "list").exit_code == 1
    switched = cli("plugins", "disable", "broken")
    assert switched.exit_code == 0, switched.output
    assert "Module broken disabled" in switched.output
    assert cli("user", "list").exit_code == 0  # the broken module is no longer imported
    assert not plugin_samples.imported("broken")
