"""Tiny plugins for the plugin-host tests; each is loaded through a fake ``guanxi.plugins`` entry point."""
import importlib.metadata
import sys

import core.plugins

PACKAGE = __name__


def entry_point(name, module=None):
    return importlib.metadata.EntryPoint(name=name, value=f"{PACKAGE}.{module or name}", group="guanxi.plugins")


def install(monkeypatch, *names, **renamed):
    """Make ``core.plugins`` see exactly these sample modules as installed; forget earlier imports of them
    so a test can tell whether the host imported one. ``renamed``: entry-point name -> sample module."""
    for loaded in [m for m in sys.modules if m.startswith(f"{PACKAGE}.")]:
        monkeypatch.delitem(sys.modules, loaded)
    points = {name: entry_point(name) for name in names}
    points.update({name: entry_point(name, module) for name, module in renamed.items()})
    monkeypatch.setattr(core.plugins, "installed_entry_points", lambda: dict(points))
    return points


def imported(name) -> bool:
    return f"{PACKAGE}.{name}" in sys.modules
