"""The hook reference, generated from ``hooks.py``: ``python -m core.hookdocs > docs/hooks.md``.

A contract test compares ``docs/hooks.md`` with ``render()``, so changing a hook without regenerating the
page fails the suite, and every hook spec must carry a docstring.
"""
from __future__ import annotations

import inspect

import hooks

HEADER = "<!-- Generated from hooks.py by `python -m core.hookdocs > docs/hooks.md`. Do not edit by hand. -->"


def hookspecs() -> list:
    """Every hook spec function of ``hooks.py``, in source order."""
    marker = f"{hooks.hookspec.project_name}_spec"
    return [obj for obj in vars(hooks).values() if inspect.isfunction(obj) and hasattr(obj, marker)]


def spec_options(function) -> dict:
    return getattr(function, f"{hooks.hookspec.project_name}_spec")


def _flags(function) -> list[str]:
    options = spec_options(function)
    return [flag for flag in ("firstresult", "historic") if options.get(flag)]


def _kind(function) -> str:
    kinds = {"firstresult": "first non-None result (firstresult)",
             "historic": "called for late plugins too (historic)"}
    return "; ".join(kinds[flag] for flag in _flags(function)) or "list, one result per plugin"


def _section(function) -> str:
    signature = f"{function.__name__}{inspect.signature(function)}"
    flags = _flags(function)
    lines = [f"## `{function.__name__}`", "", "```python", f"@hookimpl\ndef {signature}: ...", "```", ""]
    if flags:
        lines += [" · ".join(f"**{flag}**" for flag in flags) + " — " + _flag_meaning(flags), ""]
    lines += [inspect.getdoc(function) or "*(undocumented)*", ""]
    return "\n".join(lines)


def _flag_meaning(flags) -> str:
    meanings = {
        "firstresult": "calling stops at the first implementation that returns something other than None",
        "historic": "plugins registered later are called too, with the same arguments",
    }
    return "; ".join(meanings[flag] for flag in flags) + "."


def render() -> str:
    """The Markdown hook reference for every spec in ``hooks.py``."""
    specs = hookspecs()
    parts = [HEADER, "", "# Hook reference", "", inspect.getdoc(hooks) or "", ""]
    parts += ["Implement a hook with `from hooks import hookimpl` and a function of the same name and",
              "arguments (you may accept fewer arguments than the spec lists).", ""]
    parts += ["| hook | caller gets |", "|---|---|"]
    parts += [f"| [`{f.__name__}`](#{f.__name__}) | {_kind(f)} |" for f in specs]
    parts.append("")
    parts += [_section(f) for f in specs]
    return "\n".join(parts).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
