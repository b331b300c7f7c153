"""Plugin host: discovers modules through the ``guanxi.plugins`` entry points, decides which may load
(configured ∩ licensed, minus those an admin disabled), blocks the rest *before* importing them, orders the
enabled ones by ``REQUIRES`` and registers them with pluggy.

A plugin is a module (usually ``plugins/<name>/plugin.py``) with ``@hookimpl`` functions and optional
``REQUIRES = ("other",)``. Bundled and third-party plugins load the same way.
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field

import pluggy

import hooks
from core.i18n import _l


class PluginError(RuntimeError):
    """Start-up cannot continue: a module is missing, broken or its requirements form a cycle."""


@dataclass
class ModuleInfo:
    name: str
    version: str = ""
    source: str = ""  # entry point value
    installed: bool = True
    configured: bool = True
    licensed: bool = True
    admin_enabled: bool = True
    loaded: bool = False
    reason: str = ""
    hooks: list[str] = field(default_factory=list)

    @property
    def enabled(self):
        return self.loaded


def installed_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group="guanxi.plugins")}


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("guanxi")
    pm.add_hookspecs(hooks)
    return pm


def load_plugins(pm, *, configured, licence, disabled, extra=()):
    """Register core and every allowed module on ``pm``; return ``{name: ModuleInfo}``.

    ``configured``: set of names or ``{"*"}``; ``licence``: ``core.licence.Licence`` or None (no file:
    everything allowed); ``disabled``: names an admin turned off; ``extra``: ``(name, plugin_object)`` pairs
    registered directly (tests, embedding).
    """
    import core.plugin as core_plugin

    pm.register(core_plugin, name="core")
    infos: dict[str, ModuleInfo] = {}
    candidates = {}
    for name, ep in installed_entry_points().items():
        info = ModuleInfo(name=name, source=ep.value,
                          version=ep.dist.version if ep.dist is not None else "")
        info.configured = "*" in configured or name in configured
        info.licensed = licence is None or licence.allows(name)
        info.admin_enabled = name not in disabled
        if not info.configured:
            info.reason = _l("not configured")
        elif not info.licensed:
            info.reason = licence.problem or _l("not in the licence")
        elif not info.admin_enabled:
            info.reason = _l("disabled by an administrator")
        else:
            candidates[name] = ep
        infos[name] = info
    missing = {m for m in configured if m != "*"} - set(infos) - {n for n, _ in extra}
    if missing:
        raise PluginError(f"configured module(s) not installed: {', '.join(sorted(missing))}")

    for name in infos:
        if name not in candidates:
            pm.set_blocked(name)  # never imported, never registered

    loaded = {}
    for name, ep in candidates.items():
        try:
            loaded[name] = ep.load()
        except Exception as exc:  # report which module broke start-up, and why
            raise PluginError(f"module {name!r} ({ep.value}) failed to import: {exc!r}") from exc
    for name, obj in extra:
        loaded[name] = obj
        infos.setdefault(name, ModuleInfo(name=name, source=repr(obj)))

    for name in _ordered(loaded):
        try:
            pm.register(loaded[name], name=name)
        except pluggy.PluginValidationError as exc:  # a hookimpl whose arguments the spec does not have
            raise PluginError(f"module {name!r} has an invalid hook implementation: {exc}") from exc
        infos[name].loaded = True
        infos[name].hooks = sorted(impl.name for impl in _impls(pm, loaded[name]))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # e.g. a misspelt hook name
        raise PluginError(f"module {plugin_name_of(pm, exc.plugin)!r}: {exc}") from exc
    return infos


def _impls(pm, plugin):
    return [caller for caller in pm.get_hookcallers(plugin) or []]


def _ordered(loaded: dict) -> list[str]:
    """Topological order by ``REQUIRES``; a missing requirement or a cycle stops start-up."""
    order, state = [], {}

    def visit(name, chain):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise PluginError(f"modules require each other in a cycle: {' -> '.join(chain + [name])}")
        state[name] = "visiting"
        for dep in getattr(loaded[name], "REQUIRES", ()):
            if dep not in loaded:
                raise PluginError(f"module {name!r} requires {dep!r}, which is not enabled")
            visit(dep, chain + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(loaded):
        visit(name, [])
    return order


def plugin_name_of(pm, plugin) -> str:
    return pm.get_name(plugin) or "core"
