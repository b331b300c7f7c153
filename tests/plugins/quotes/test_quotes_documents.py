"""The quote as a PDF (Chinese or English, embedded Noto CJK font) and e-mailed with the PDF attached,
delivered by the real queue consumer to a real SMTP server."""
from __future__ import annotations

import re

from core.testing import pdf_fonts, pdf_text

LINES = [{"description": "工业传感器 Industrial sensor", "quantity": "2", "unit_price": "1250.00",
          "discount_percent": "10", "tax_rate_percent": "13"}]


def _embedded_cjk(data):
    return [font for font in pdf_fonts(data) if "CJK" in str(font) and font.embedded]


def test_the_pdf_in_chinese_embeds_a_cjk_font_and_shows_lines_totals_and_terms(org, client_as, customer_of,
                                                                                 quote_of):
    rep = client_as(org.rep_east)
    customer_id, contact_id = customer_of(org.rep_east)
    quote_id = quote_of(rep, customer_id, LINES, contact_id=str(contact_id), terms="付款方式：预付 30%",
                        valid_until="2031-06-30")
    response = rep.get(f"/quotes/{quote_id}/pdf?lang=zh_CN")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert re.search(r'filename="QT-\d{4}-0001\.pdf"', response.headers["Content-Disposition"])
    data = response.data
    assert data.startswith(b"%PDF") and _embedded_cjk(data), pdf_fonts(data)
    text = pdf_text(data)
    for expected in ("报价单", "苏州精密机械有限公司", "工业传感器 Industrial sensor", "2,250.00", "292.50", "2,542.50",
                     "2031-06-30", "付款方式：预付 30%", "有效期至"):
        assert expected in text, (expected, text)


def test_the_pdf_in_english(org, client_as, customer_of, quote_of):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    quote_id = quote_of(rep, customer_id, LINES)
    data = rep.get(f"/quotes/{quote_id}/pdf?lang=en").data
    text = pdf_text(data)
    assert "Quotation" in text and "Subtotal" in text and "2,542.50" in text and "报价单" not in text
    # the customer's Chinese name still needs the CJK font
    assert "苏州精密机械有限公司" in text and _embedded_cjk(data)


def test_mailing_a_draft_queues_the_pdf_marks_it_sent_and_the_consumer_delivers_it(
        app_with, consumer_for, smtp_server, org, client_as, csrf, customer_of, quote_of, read, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    smtp_server.configure(app)
    rep = client_as(org.rep_east, app)
    customer_id, contact_id = customer_of(org.rep_east, email="buyer@example.com")
    quote_id = quote_of(rep, customer_id, LINES, contact_id=str(contact_id))
    number = read.quote(quote_id).number
    form = rep.get(f"/quotes/{quote_id}/mail").get_data(as_text=True)
    assert 'value="buyer@example.com"' in form and number in form
    # a bad address is refused at the field; nothing is queued, the quote stays a draft
    bad = rep.post(f"/quotes/{quote_id}/mail", data={"csrf_token": csrf(rep, "/"), "to": "not-an-address",
                                                     "subject": "Quote", "message": "Hi", "language": "en"})
    assert bad.status_code == 422 and 'id="mail-to-errors"' in bad.get_data(as_text=True)
    assert "valid e-mail" in bad.get_data(as_text=True).split('id="mail-to-errors"')[1][:300]
    assert read.quote(quote_id).status == "draft"
    consumer_for(app, workers=1)
    response = rep.post(f"/quotes/{quote_id}/mail", data={
        "csrf_token": csrf(rep, "/"), "to": "buyer@example.com, boss@example.com", "subject": f"报价单 {number}",
        "message": "您好，附件是我们的报价。", "language": "zh_CN"})
    assert response.status_code == 302
    assert read.quote(quote_id).status == "sent"
    assert smtp_server.wait_for(1, timeout=30)
    [message] = smtp_server.messages
    assert message["Subject"] == f"报价单 {number}"
    assert {a.strip() for a in message["To"].split(",")} == {"buyer@example.com", "boss@example.com"}
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "附件是我们的报价" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{number}.pdf" and attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert _embedded_cjk(pdf) and "报价单" in pdf_text(pdf)
    assert ("mail", {"mailed_to": [None, "buyer@example.com, boss@example.com"]}) in read.audit(quote_id)
