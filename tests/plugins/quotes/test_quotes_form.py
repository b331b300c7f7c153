"""The quote form: lines, stored amounts (core.money's one rounding rule), errors at the line and field."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select


def test_a_quote_stores_its_rounded_line_amounts_and_their_sums(org, client_as, customer_of, product, quote_of, read):
    rep = client_as(org.rep_east)
    customer_id, contact_id = customer_of(org.rep_east)
    sensor = product(price="1250.00")
    quote_id = quote_of(rep, customer_id, [
        # 3 x 33.33 less 10 % = 89.991 -> 89.99; tax 13 % = 11.6987 -> 11.70
        {"description": "螺栓 Bolts", "quantity": "3", "unit_price": "33.33", "discount_percent": "10",
         "tax_rate_percent": "13"},
        # a product line: description, unit and price come from the product
        {"product_id": str(sensor), "quantity": "1.5", "tax_rate_percent": "6"},
        # 0.005 rounds half up: 1 x 0.05 x 10 % = 0.005 -> 0.01
        {"description": "Rounding", "quantity": "1", "unit_price": "0.05", "discount_percent": "90"},
        {},  # a blank row is ignored
    ], contact_id=str(contact_id))
    quote = read.quote(quote_id)
    assert re.fullmatch(r"QT-\d{4}-0001", quote.number) and quote.revision == 1 and quote.status == "draft"
    assert [(l.description, l.unit, l.unit_price, l.net, l.tax, l.gross) for l in quote.lines] == [
        ("螺栓 Bolts", None, Decimal("33.33"), Decimal("89.99"), Decimal("11.70"), Decimal("101.69")),
        ("工业传感器 Sensor", "台", Decimal("1250.00"), Decimal("1875.00"), Decimal("112.50"), Decimal("1987.50")),
        ("Rounding", None, Decimal("0.05"), Decimal("0.01"), Decimal("0.00"), Decimal("0.01")),
    ]
    assert (quote.subtotal, quote.tax_total, quote.total) == (Decimal("1965.00"), Decimal("124.20"),
                                                               Decimal("2089.20"))
    assert quote.owner_id == org.rep_east.id and {l.owner_id for l in quote.lines} == {org.rep_east.id}
    html = rep.get(f"/r/quote/{quote_id}").get_data(as_text=True)
    assert quote.number in html and "2,089.20" in html and "工业传感器 Sensor" in html


def test_yen_amounts_have_no_minor_units(org, client_as, customer_of, quote_of, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    quote_id = quote_of(rep, customer_id, [{"description": "Yen", "quantity": "3", "unit_price": "333.50",
                                            "tax_rate_percent": "10"}], currency="JPY")
    quote = read.quote(quote_id)
    # 1000.50 -> 1001 yen; tax 100.1 -> 100
    assert (quote.lines[0].net, quote.lines[0].tax, quote.total) == (Decimal("1001"), Decimal("100"), Decimal("1101"))


def test_line_errors_come_back_at_the_line_and_field_nothing_saved(org, client_as, customer_of, post_quote, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    response = post_quote(rep, customer_id, [
        {"description": "Fine", "quantity": "1", "unit_price": "10"},
        {"description": "No quantity", "quantity": "", "unit_price": "10"},
        {"description": "Bad price", "quantity": "2", "unit_price": "1.999", "discount_percent": "120"},
        {"quantity": "1", "unit_price": "5"},
    ], expect=422)
    html = response.get_data(as_text=True)
    assert read.quotes() == []

    def errors(name):
        match = re.search(rf'id="{name}-errors" data-field="{name}">(.*?)</div>\s*(?:</td>|$)', html, re.S)
        return re.sub(r"<[^>]+>", " ", match.group(1)).split() if match else None

    assert errors("lines-0-quantity") == []
    assert "required." in " ".join(errors("lines-1-quantity"))
    assert "decimal places" in " ".join(errors("lines-2-unit_price"))
    assert "percentage" in " ".join(errors("lines-2-discount_percent"))
    assert "Describe the line" in " ".join(errors("lines-3-description"))
    # what was typed is shown again
    assert 'value="Bad price"' in html and 'value="1.999"' in html


def test_line_errors_in_chinese(org, client_as, customer_of, post_quote, gx):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    from core.models import User
    with gx.system_session("test: language") as session:
        session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one().language = "zh_CN"
        session.commit()
    response = post_quote(rep, customer_id, [{"description": "X", "quantity": "-1", "unit_price": "abc"}],
                          expect=422)
    html = response.get_data(as_text=True)
    assert "请输入大于零的数量" in html
    assert "不是有效的数字" in html or "无效" in html


def test_no_line_at_all_is_an_error_at_the_lines(org, client_as, customer_of, post_quote, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    html = post_quote(rep, customer_id, [{}, {}], expect=422).get_data(as_text=True)
    assert "Add at least one line." in html and read.quotes() == []


def test_the_contact_must_belong_to_the_customer(org, client_as, customer_of, post_quote, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    _other, foreign_contact = customer_of(org.rep_east, name="别的客户 Other")
    html = post_quote(rep, customer_id, [{"description": "X", "quantity": "1", "unit_price": "1"}], expect=422,
                      contact_id=str(foreign_contact)).get_data(as_text=True)
    assert "does not belong to the chosen customer" in html and read.quotes() == []


def test_editing_replaces_lines_and_totals_generic_edit_leads_to_the_form(org, client_as, customer_of, quote_of,
                                                                          post_quote, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    quote_id = quote_of(rep, customer_id)
    assert rep.get(f"/r/quote/{quote_id}/edit").headers["Location"].endswith(f"/quotes/{quote_id}/edit")
    assert rep.get("/r/quote/new?customer_id=5").headers["Location"].endswith("/quotes/new?customer_id=5")
    form = rep.get(f"/quotes/{quote_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    assert 'name="lines-0-description"' in form and "安装调试 Installation" in form
    post_quote(rep, customer_id, [{"description": "New line", "quantity": "4", "unit_price": "25"}],
               url=f"/quotes/{quote_id}/edit", version=version)
    quote = read.quote(quote_id)
    assert [l.description for l in quote.lines] == ["New line"] and quote.total == Decimal("100.00")
    assert ("update", {"lines": [1, 1], "total": ["226.00", "100.00"]}) in read.audit(quote_id)
    # a stale version is refused: nothing overwritten
    html = post_quote(rep, customer_id, [{"description": "Stale", "quantity": "1", "unit_price": "1"}],
                      url=f"/quotes/{quote_id}/edit", version=version, expect=409).get_data(as_text=True)
    assert "Someone else changed this quote" in html
    assert [l.description for l in read.quote(quote_id).lines] == ["New line"]


def test_the_new_form_offers_links_and_a_row_template_and_checks_the_project_scope(org, client_as, customer_of,
                                                                                    post_quote, gx, read):
    from plugins.projects.models import Project

    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    html = rep.get(f"/quotes/new?customer_id={customer_id}").get_data(as_text=True)
    assert 'name="opportunity_id"' in html and 'name="project_id"' in html  # both modules are enabled
    assert 'id="quote-line-template"' in html and "lines-__index__-quantity" in html
    assert 'name="lines-2-tax_rate_percent" value="13"' in html  # three blank rows without JavaScript
    assert '<script src="/quotes/assets/lines.js"></script>' in html and "onclick" not in html
    assert rep.get("/quotes/assets/lines.js").status_code == 200
    with gx.system_session("test: project") as session:
        project = Project(number="PRJ-T-1", name="West project", owner_id=org.rep_west.id,
                          department_id=org.rep_west.department_id, custom={})
        session.add(project)
        session.commit()
        project_id = project.id
    html = post_quote(rep, customer_id, [{"description": "x", "quantity": "1", "unit_price": "1"}], expect=422,
                      project_id=str(project_id)).get_data(as_text=True)
    assert "Not found." in html.split('id="f-project_id-errors"')[1][:200] and read.quotes() == []


def test_the_product_lookup_prefills_a_line(org, client_as, product):
    rep = client_as(org.rep_east)
    sensor = product()
    assert rep.get(f"/quotes/products/{sensor}").get_json() == {
        "id": sensor, "name": "工业传感器 Sensor", "code": "P-001", "unit": "台", "price": "1250.00", "currency": "CNY"}
    assert rep.get("/quotes/products/999999").status_code == 404
