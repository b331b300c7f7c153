"""The module's own zh_CN catalogue is complete, compiled and keeps its placeholders."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "plugins" / "opportunities"
CATALOG = MODULE / "translations" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _po():
    with open(CATALOG / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_string_of_the_module_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "plugins/opportunities"], cwd=ROOT, check=True)
    with open(pot, "rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    po = _po()
    missing = sorted(i for i in extracted if po.get(i) is None or not po.get(i).string or po.get(i).fuzzy)
    assert not missing, missing


def test_placeholders_survive_and_the_compiled_catalogue_is_current():
    po = _po()
    for message in po:
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert mo == {m.id: m.string for m in po if m.id and m.string}
