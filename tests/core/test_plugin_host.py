"""The plugin host (DESIGN.md §2): enabled = configured ∩ licensed − disabled; everything else is never
imported; a missing or broken module, a REQUIRES cycle or a misspelt hook stops start-up with a clear error."""
import datetime as dt

import pytest

import plugin_samples
from core.licence import Licence
from core.plugins import PluginError, load_plugins, make_plugin_manager


def load(configured=("*",), licence=None, disabled=()):
    pm = make_plugin_manager()
    infos = load_plugins(pm, configured=set(configured), licence=licence, disabled=set(disabled))
    return pm, infos


def licence_for(*modules):
    return Licence(licensee="Test Co", modules=list(modules), seats=None, expires=dt.date(2999, 1, 1), valid=True)


def test_allowed_modules_load_in_requires_order(monkeypatch):
    plugin_samples.install(monkeypatch, "needs_good", "good")
    pm, infos = load()
    names = [name for name, _plugin in pm.list_name_plugin()]
    assert names.index("good") < names.index("needs_good")
    assert infos["good"].loaded and infos["good"].hooks == ["cli_commands"]
    assert infos["good"].reason == ""


def test_unlicensed_module_is_blocked_before_import(monkeypatch):
    plugin_samples.install(monkeypatch, "good", "blocked")
    pm, infos = load(licence=licence_for("good"))
    assert infos["good"].loaded
    assert not infos["blocked"].loaded and not infos["blocked"].licensed
    assert infos["blocked"].reason == "not in the licence"
    assert pm.is_blocked("blocked")
    assert not plugin_samples.imported("blocked")


def test_invalid_licence_blocks_every_module_and_says_why(monkeypatch):
    plugin_samples.install(monkeypatch, "good")
    bad = Licence(licensee="X", modules=["*"], valid=False, problem="licence expired on 2020-01-01")
    _pm, infos = load(licence=bad)
    assert not infos["good"].loaded
    assert infos["good"].reason == "licence expired on 2020-01-01"
    assert not plugin_samples.imported("good")


def test_not_configured_and_admin_disabled_modules_are_never_imported(monkeypatch):
    plugin_samples.install(monkeypatch, "good", "blocked", "needs_good")
    _pm, infos = load(configured=("good", "needs_good"), disabled=("needs_good",))
    assert infos["blocked"].reason == "not configured"
    assert infos["needs_good"].reason == "disabled by an administrator"
    assert not plugin_samples.imported("blocked") and not plugin_samples.imported("needs_good")
    assert infos["good"].loaded


def test_missing_configured_module_stops_start_up(monkeypatch):
    plugin_samples.install(monkeypatch, "good")
    with pytest.raises(PluginError, match="configured module.*not installed: ghost"):
        load(configured=("good", "ghost"))


def test_module_failing_on_import_stops_start_up(monkeypatch):
    plugin_samples.install(monkeypatch, "good", "broken")
    with pytest.raises(PluginError, match=r"module 'broken' .* failed to import: .*nonexistent_lib"):
        load()


def test_broken_module_that_is_not_enabled_does_not_matter(monkeypatch):
    plugin_samples.install(monkeypatch, "good", "broken")
    _pm, infos = load(configured=("good",))
    assert infos["good"].loaded and not infos["broken"].loaded


def test_requires_cycle_stops_start_up(monkeypatch):
    plugin_samples.install(monkeypatch, "cycle_a", "cycle_b")
    with pytest.raises(PluginError, match="cycle: cycle_a -> cycle_b -> cycle_a"):
        load()


def test_missing_requirement_stops_start_up(monkeypatch):
    plugin_samples.install(monkeypatch, "needs_good")
    with pytest.raises(PluginError, match="'needs_good' requires 'good', which is not enabled"):
        load()


def test_misspelt_hook_stops_start_up(monkeypatch):
    plugin_samples.install(monkeypatch, "misspelt")
    with pytest.raises(PluginError, match="'misspelt'.*unknown hook 'menu_itemz'"):
        load()


def test_create_app_reports_a_broken_module(monkeypatch, app_with):
    plugin_samples.install(monkeypatch, "broken")
    with pytest.raises(PluginError, match="broken"):
        app_with()
