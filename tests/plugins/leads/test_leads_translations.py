"""The leads module's own zh_CN catalogue is complete, compiled, and keeps its placeholders."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "plugins" / "leads"
CATALOG = MODULE / "translations" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _po():
    with open(CATALOG / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_string_of_the_module_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-o", str(pot), "."], cwd=MODULE, check=True)
    with open(pot, "rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    po = _po()
    missing = sorted(i for i in extracted if po.get(i) is None or po.get(i).fuzzy or not po.get(i).string)
    assert not missing


def test_placeholders_survive_and_the_mo_is_current():
    po = {m.id: m.string for m in _po() if m.id and m.string}
    for source, target in po.items():
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source
    with open(CATALOG / "messages.mo", "rb") as fh:
        assert po == {m.id: m.string for m in read_mo(fh) if m.id}
