"""Simplified Chinese is complete: every translatable string of core has a zh_CN translation, the compiled
catalogue matches its source, and the placeholders agree."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "core" / "translations" / "zh_CN" / "LC_MESSAGES"


def _extract(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "core", "hooks.py"],
                   cwd=ROOT, check=True)
    with open(pot, "rb") as fh:
        return read_po(fh)


def _po():
    with open(CATALOG / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_CN")


def _ids(message):
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_core_string_is_translated(tmp_path):
    extracted = {_ids(m) for m in _extract(tmp_path) if m.id}
    po = _po()
    missing = []
    for msgid in sorted(extracted):
        message = po.get(msgid)
        strings = [] if message is None else ([message.string] if isinstance(message.string, str) else
                                              list(message.string))
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, f"{len(missing)} untranslated zh_CN strings, e.g. {missing[:10]} — run `make translations`"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def test_placeholders_survive_translation():
    for message in _po():
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


def _strings(message):
    """Plural translations: a tuple from read_po, a list from read_mo."""
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else message.string


def test_compiled_catalogue_is_current():
    po = {_ids(m): _strings(m) for m in _po() if m.id and m.string}
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = {_ids(m): _strings(m) for m in read_mo(fh) if m.id}
    assert po == mo, "messages.mo is stale — run `make translations`"


def test_a_chinese_user_sees_pages_in_chinese(org, client_as, system_session):
    """Babel names the locale zh_Hans_CN; the catalogue still loads from the zh_CN folder (core.i18n)."""
    from sqlalchemy import select

    from core.models import User
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    assert "客户" in html and "退出登录" in html and "Log out" not in html
