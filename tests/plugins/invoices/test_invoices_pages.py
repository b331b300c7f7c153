"""Pages around invoices: the "Invoices" panel of customers, contracts and orders, the lists, the deal chain's
invoices stage, the PDFs (a Noto CJK font embedded) and the number of queries per page."""
from __future__ import annotations

from decimal import Decimal

from tests.plugins.invoices.invoices_helpers import (
    created_id, make_contract, make_customer, make_order, make_payment, record_invoice, request_invoice,
    set_language,
)


def test_panels_show_requests_invoices_and_what_is_left(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="1000.00")
    order = make_order(system_session, org.rep_east, customer, total="400.00")
    rep, manager = client_as(org.rep_east), client_as(org.manager_east)
    created_id(request_invoice(rep, csrf, contract, amount="100.00"), "invoice_request")
    created_id(record_invoice(manager, csrf, contract, amount="300.00", number="55550001"), "invoice")
    void_id = created_id(record_invoice(manager, csrf, order, amount="50.00", number="55550002"), "invoice")
    manager.post(f"/invoices/invoices/{void_id}/void", data={"csrf_token": csrf(manager, "/"), "reason": "错"})
    contract_page = rep.get(f"/r/contract/{contract.id}").get_data(as_text=True)
    panel = contract_page[contract_page.index('id="invoices-panel"'):]
    assert "55550001" in panel and "55550002" not in panel and "data-left-to-invoice>" in panel
    assert "700.00" in panel[panel.index("data-left-to-invoice"):][:120]
    customer_page = rep.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    panel = customer_page[customer_page.index('id="invoices-panel"'):]
    assert "55550001" in panel and "55550002" in panel and "Void" in panel
    invoiced = panel[panel.index('data-invoiced="CNY"'):][:120]
    assert "300.00" in invoiced and "350.00" not in invoiced
    found = manager.get("/r/invoice/?q=55550001")
    assert found.status_code == 200 and "55550001" in found.get_data(as_text=True)
    order_page = rep.get(f"/r/order/{order.id}").get_data(as_text=True)
    assert "55550002" in order_page[order_page.index('id="invoices-panel"'):]
    # another salesperson sees no invoices panel rows of these deals on his own pages, nor these pages
    assert client_as(org.rep_west).get(f"/r/customer/{customer.id}").status_code == 404


def test_chinese_pages(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    rep = client_as(org.rep_east)
    request_id = created_id(request_invoice(rep, csrf, contract), "invoice_request")
    set_language(system_session, org.rep_east, "zh_CN")
    html = rep.get(f"/r/invoice_request/{request_id}").get_data(as_text=True)
    assert "开票申请" in html and "待审批" in html and "发票抬头" in html
    assert "申请开票" in rep.get(f"/r/contract/{contract.id}").get_data(as_text=True)
    listing = rep.get("/r/invoice_request/").get_data(as_text=True)
    assert "普通发票" in listing and "待审批" in listing


def test_chain_stage_counts_issued_invoices_only(app, org, client_as, csrf, system_session):
    from core.chain import collect
    from core.scope import build_user_scope, set_scope, system_scope
    from plugins.contracts.models import Contract
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="1000.00", project_id=77)
    usd = make_contract(system_session, org.rep_east, customer, amount="90.00", currency="USD")
    order = make_order(system_session, org.rep_east, customer, total="500.00", contract=contract)
    payment = make_payment(system_session, org.rep_east, order, amount="200.00")
    manager = client_as(org.manager_east)
    created_id(record_invoice(manager, csrf, contract, amount="100.00"), "invoice")
    created_id(record_invoice(manager, csrf, payment, amount="200.00"), "invoice")
    created_id(record_invoice(manager, csrf, usd, amount="90.00"), "invoice")
    void_id = created_id(record_invoice(manager, csrf, order, amount="40.00"), "invoice")
    manager.post(f"/invoices/invoices/{void_id}/void", data={"csrf_token": csrf(manager, "/"), "reason": "x"})
    created_id(request_invoice(client_as(org.rep_east), csrf, order, amount="10.00"), "invoice_request")
    gx = app.extensions["guanxi"]
    with app.test_request_context("/"), gx.session_factory() as session:
        def scope_of(user):
            with system_scope(session, "test: build a user's scope"):
                return build_user_scope(session, user, gx.entities, gx.hook)

        set_scope(session, scope_of(org.rep_east))
        record = session.get(Contract, contract.id)

        def invoices_stage(entity, anchor):
            chain = collect(entity, anchor, org.rep_east, session)
            return next(s for s in chain.stages if s.key == "invoices")

        stage = invoices_stage("contract", record)
        assert stage.position == 80 and stage.totals == {"invoiced": {"CNY": Decimal("300.00")}}
        assert len(stage.rows) == 4  # three invoices (one void) and the waiting request
        assert invoices_stage("customer", customer).totals == {
            "invoiced": {"CNY": Decimal("300.00"), "USD": Decimal("90.00")}}
        assert invoices_stage("order", order).totals == {"invoiced": {"CNY": Decimal("200.00")}}
        project = type("ProjectAnchor", (), {"id": 77})()
        assert invoices_stage("project", project).totals == {"invoiced": {"CNY": Decimal("300.00")}}
        # another salesperson's scope sees and sums nothing
        set_scope(session, scope_of(org.rep_west))
        assert all(s.key != "invoices" for s in collect("contract", record, org.rep_west, session).stages)


def test_pdf_embeds_a_cjk_font_in_chinese_and_english(org, client_as, csrf, system_session):
    import pytest
    pytest.importorskip("core.pdf", reason="core.pdf (helper K) not there yet")
    from core.testing import pdf_fonts, pdf_text
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    manager = client_as(org.manager_east)
    invoice_id = created_id(record_invoice(manager, csrf, contract, amount="1130.00", number="04408888",
                                           title="深圳前海微众科技有限公司"), "invoice")
    response = manager.get(f"/invoices/invoices/{invoice_id}.pdf?lang=zh_CN")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    fonts = pdf_fonts(response.data)
    names = {str(font).replace(" ", "").replace("-", ""): font for font in fonts}  # "ABCDEF+Noto-Sans-CJK-SC"
    assert any(("NotoSansCJK" in name or "NotoSerifCJK" in name) and font.embedded for name, font in names.items()), fonts
    text = pdf_text(response.data)
    assert "发票" in text and "04408888" in text and "深圳前海微众科技有限公司" in text and "1,130.00" in text
    english = pdf_text(manager.get(f"/invoices/invoices/{invoice_id}.pdf?lang=en").data)
    assert "Invoice" in english and "深圳前海微众科技有限公司" in english and "Tax amount" in english
    request_id = created_id(request_invoice(client_as(org.rep_east), csrf, contract, amount="10.00"),
                            "invoice_request")
    request_pdf = client_as(org.rep_east).get(f"/invoices/requests/{request_id}.pdf?lang=zh_CN")
    assert request_pdf.status_code == 200 and "开票申请" in pdf_text(request_pdf.data)


def test_lists_and_detail_pages_cost_no_query_per_row(org, client_as, csrf, system_session, count_queries):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="100000.00")
    manager = client_as(org.manager_east)
    rep = client_as(org.rep_east)

    def measure():
        with count_queries() as counter:
            for url in ("/r/invoice/", "/r/invoice_request/", f"/r/contract/{contract.id}",
                        f"/r/customer/{customer.id}"):
                assert manager.get(url).status_code == 200, url
        return counter.count

    created_id(record_invoice(manager, csrf, contract, amount="10.00"), "invoice")
    created_id(request_invoice(rep, csrf, contract, amount="10.00"), "invoice_request")
    measure()
    few = measure()
    for _ in range(6):
        created_id(record_invoice(manager, csrf, contract, amount="10.00"), "invoice")
        created_id(request_invoice(rep, csrf, contract, amount="10.00"), "invoice_request")
    assert measure() == few
