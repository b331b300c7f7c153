"""core.pdf: Chinese documents with embedded Noto CJK glyphs (a missing font would still extract as text but
print as boxes, hence the font check), the company letterhead, the language switch, and no network."""
from __future__ import annotations

import base64
import logging
from decimal import Decimal

import pytest
from jinja2 import ChoiceLoader, DictLoader

from core.admin.company import save_company
from core.pdf import LocalFetcher, RefusedURL, render_pdf, static_roots
from core.testing import pdf_fonts, pdf_text

# A 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
TEMPLATES = {
    "test/quote.html": """{% extends "core/pdf/document.html" %}
{% block title %}{{ number }}{% endblock %}
{% block document_title %}{{ _('Phone') }} · {{ number }}{% endblock %}
{% block content %}
<table class="lines"><tr><th>{{ _('Name') }}</th><th class="num">¥</th></tr>
{% for name, amount in lines %}<tr><td>{{ name }}</td><td class="num">{{ amount|money('CNY') }}</td></tr>{% endfor %}
</table>
<img src="http://192.0.2.1/tracker.png" alt="">
<img src="file:///etc/hostname" alt="">
{% endblock %}""",
}


@pytest.fixture
def pdf_app(app):
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), original])
    yield app
    app.jinja_env.loader = original


def test_chinese_document_embeds_a_noto_cjk_font(pdf_app, system_session, caplog):
    with pdf_app.app_context():
        save_company(system_session, {"name": "上海关系贸易有限公司", "address": "上海市浦东新区世纪大道 100 号",
                                      "phone": "021-5555 0100", "email": "sales@guanxi.example",
                                      "tax_number": "91310000MA1FL12345", "bank": "中国工商银行上海分行",
                                      "bank_account": "1001 2345 6789"})
        system_session.commit()
        with caplog.at_level(logging.WARNING, logger="guanxi.pdf"):
            data = render_pdf("test/quote.html", language="zh_CN", number="QT-2026-0001",
                              lines=[("工业传感器 A 型", Decimal("1234.5")), ("安装调试服务", Decimal(800))])
    assert data.startswith(b"%PDF-")
    fonts = pdf_fonts(data)
    cjk = [font for font in fonts if "CJK" in font.replace("-", "")]
    assert cjk and all(font.embedded for font in cjk), fonts
    assert all(font.embedded for font in fonts)  # nothing left to the reader's machine
    text = pdf_text(data)
    for expected in ("上海关系贸易有限公司", "上海市浦东新区世纪大道 100 号", "91310000MA1FL12345", "中国工商银行上海分行",
                     "电话", "QT-2026-0001", "工业传感器 A 型", "安装调试服务", "¥1,234.50", "¥800.00"):
        assert expected in text, expected
    # the letterhead never fetched anything: both foreign URLs were refused by the fetcher
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("192.0.2.1" in m for m in refused) and any("/etc/hostname" in m for m in refused)


def test_language_switch_and_english_letterhead(pdf_app, system_session):
    with pdf_app.app_context():
        save_company(system_session, {"name": "上海关系贸易有限公司", "name_en": "Shanghai Guanxi Trading Co., Ltd."})
        system_session.commit()
        english = pdf_text(render_pdf("test/quote.html", language="en", number="QT-2026-0002", lines=[]))
        chinese = pdf_text(render_pdf("test/quote.html", language="zh_CN", number="QT-2026-0002", lines=[]))
        with pytest.raises(ValueError):
            render_pdf("test/quote.html", language="fr", number="x", lines=[])
    assert "Shanghai Guanxi Trading Co., Ltd." in english and "Phone" in english
    assert "上海关系贸易有限公司" in chinese and "电话" in chinese and "Phone ·" not in chinese


def test_logo_is_drawn_from_the_settings(pdf_app, system_session):
    from werkzeug.datastructures import FileStorage
    import io
    with pdf_app.app_context():
        save_company(system_session, {"name": "标志公司"}, logo=FileStorage(io.BytesIO(PNG), "logo.png"))
        system_session.commit()
        data = render_pdf("test/quote.html", language="zh_CN", number="QT-1", lines=[])
    assert b"/Subtype /Image" in data or b"/Subtype/Image" in data


def test_fetcher_serves_only_data_uris_and_static_files(app):
    fetcher = LocalFetcher(static_roots(app))
    with pytest.raises(RefusedURL):
        fetcher.fetch("http://example.com/a.png")
    with pytest.raises(RefusedURL):
        fetcher.fetch("file:///etc/passwd")
    css = static_roots(app)[0] / "css" / "guanxi.css"
    with pytest.raises(RefusedURL):
        fetcher.fetch(css.as_uri().replace("/css/guanxi.css", "/css/../../plugin.py"))  # no way out
    response = fetcher.fetch(css.as_uri())
    assert response.read() == css.read_bytes() and response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,5Lit5paH").read() == "中文".encode()
