"""The pool's zh_CN catalogue is complete, compiled, and keeps every placeholder."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "plugins" / "pool"
CATALOG = PLUGIN / "translations" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _text(value):
    return value if isinstance(value, str) else value[0]


def _po():
    with open(CATALOG / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_pool_string_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "plugins/pool"], cwd=ROOT, check=True)
    with open(pot, "rb") as fh:
        extracted = {_text(m.id) for m in read_po(fh) if m.id}
    po = _po()
    missing = sorted(msgid for msgid in extracted
                     if po.get(msgid) is None or po.get(msgid).fuzzy or not po.get(msgid).string)
    assert extracted and not missing, missing


def test_placeholders_survive_and_the_compiled_catalogue_is_current():
    po = _po()
    for message in po:
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(_text(message.id))) == \
                sorted(PLACEHOLDER.findall(_text(message.string))), message.id
    with open(CATALOG / "messages.mo", "rb") as fh:
        compiled = {_text(m.id): m.string for m in read_mo(fh) if m.id}
    assert compiled == {_text(m.id): m.string for m in po if m.id and m.string}
