"""Every bundled module's zh_CN catalogue (``plugins/<name>/translations``) is complete, compiled and keeps
its placeholders: one test for all of them, so a new module is covered without copying it."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.parent.name for p in (ROOT / "plugins").glob("*/translations"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _text(value):
    """Plural entries carry a tuple (read_po) or a list (read_mo): compare their first form."""
    return value if isinstance(value, str) else value[0]


def _strings(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _catalog(module):
    return ROOT / "plugins" / module / "translations" / "zh_CN" / "LC_MESSAGES"


def _po(module):
    with open(_catalog(module) / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_the_bundled_modules_have_catalogues():
    assert {"leads", "opportunities", "pool", "projects"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_every_string_of_the_module_is_translated(module, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), f"plugins/{module}"], cwd=ROOT, check=True)
    with open(pot, "rb") as fh:
        extracted = {_text(m.id) for m in read_po(fh) if m.id}
    po = _po(module)
    missing = sorted(msgid for msgid in extracted
                     if po.get(msgid) is None or po.get(msgid).fuzzy or not po.get(msgid).string)
    assert extracted and not missing, missing


@pytest.mark.parametrize("module", MODULES)
def test_placeholders_survive_and_the_compiled_catalogue_is_current(module):
    po = _po(module)
    for message in po:
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(_text(message.id))) == \
                sorted(PLACEHOLDER.findall(_text(message.string))), message.id
    with open(_catalog(module) / "messages.mo", "rb") as fh:
        compiled = {_text(m.id): _strings(m.string) for m in read_mo(fh) if m.id}
    assert compiled == {_text(m.id): _strings(m.string) for m in po if m.id and m.string}


def test_a_message_means_the_same_in_every_catalogue():
    """Core's and every module's catalogues merge into one translation table at run time: a msgid that two
    catalogues translate differently would show whichever was loaded last, on every page of both ("Order" as
    顺序 on a stage list and as 订单 on an invoice). Such a msgid must be reworded in one of them."""
    meanings: dict = {}
    with open(ROOT / "core" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalogues = {"core": read_po(fh, locale="zh_CN")}
    catalogues.update({module: _po(module) for module in MODULES})
    for owner, catalogue in catalogues.items():
        for message in catalogue:
            if message.id and message.string and not message.context:
                meanings.setdefault(_text(message.id), {}).setdefault(_strings(message.string), []).append(owner)
    clashes = {msgid: found for msgid, found in meanings.items() if len(found) > 1}
    assert clashes == {}
