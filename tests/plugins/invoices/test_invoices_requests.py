"""Invoice requests (开票申请): the source decides customer, currency and owner; the tax number is checked; a
special VAT invoice needs the buyer's bank and address; approval is a permission of its own."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.models import AuditEntry
from plugins.invoices.models import InvoiceRequest
from plugins.invoices.schemas import credit_code_problem
from tests.plugins.invoices.invoices_helpers import (
    OTHER_TAX_NUMBER, VALID_TAX_NUMBER, count, created_id, field_error, make_contract, make_customer, make_order,
    make_payment, post_form, reload, request_invoice, set_language,
)


def test_tax_number_check_character():
    assert credit_code_problem(VALID_TAX_NUMBER) is None and credit_code_problem(OTHER_TAX_NUMBER) is None
    assert "check character" in str(credit_code_problem("91350100M000100Y44"))
    assert "18 characters" in str(credit_code_problem("91350100M000100Y4"))
    assert "capital letters" in str(credit_code_problem("91350100M000100IO3"))


def test_request_takes_customer_currency_and_owner_from_the_contract(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="5000.00", currency="USD")
    # the manager asks on behalf of his salesperson: the request belongs to the contract's owner
    client = client_as(org.manager_east)
    request_id = created_id(request_invoice(client, csrf, contract, amount="1200.50",
                                            tax_number=" 91350100m000100y43 "), "invoice_request")
    request = reload(system_session, InvoiceRequest, request_id)
    assert (request.customer_id, request.currency, request.owner_id, request.status) == (
        customer.id, "USD", org.rep_east.id, "requested")
    assert request.amount == Decimal("1200.50") and request.tax_number == VALID_TAX_NUMBER
    assert request.contract_id == contract.id and request.order_id is None
    html = client.get(f"/r/invoice_request/{request_id}").get_data(as_text=True)
    assert "Requested" in html and (contract.number in html or contract.title in html)


def test_a_wrong_tax_number_is_refused_at_the_field_in_english_and_chinese(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    client = client_as(org.rep_east)
    response = request_invoice(client, csrf, contract, tax_number="91350100M000100Y44", note="请尽快开票")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "its last character does not match the check character" in field_error(html, "tax_number")
    assert "请尽快开票" in html  # what was typed is shown again
    set_language(system_session, org.rep_east, "zh_CN")
    response = request_invoice(client, csrf, contract, tax_number="9135010")
    assert response.status_code == 422
    assert "税号应为 18 位" in field_error(response.get_data(as_text=True), "tax_number")
    response = request_invoice(client, csrf, contract, tax_number="91350100M000100Y44")
    assert "校验位" in field_error(response.get_data(as_text=True), "tax_number")
    assert count(system_session, InvoiceRequest) == 0


def test_special_invoice_needs_tax_number_bank_and_address(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    client = client_as(org.rep_east)
    response = request_invoice(client, csrf, contract, type="special", tax_number="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("tax_number", "bank", "bank_account", "address_phone"):
        assert field_error(html, name) == "Required for a special VAT invoice."
    set_language(system_session, org.rep_east, "zh_CN")
    html = request_invoice(client, csrf, contract, type="special", tax_number="").get_data(as_text=True)
    assert field_error(html, "bank") == "专用发票必须填写此项。"
    created_id(request_invoice(client, csrf, contract, type="special", bank="招商银行深圳分行",
                               bank_account="755912345610801", address_phone="深圳市南山区科技园 0755-86000000"),
               "invoice_request")


def test_exactly_one_source(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    order = make_order(system_session, org.rep_east, customer)
    client = client_as(org.rep_east)
    none = post_form(client, csrf, "invoice_request", amount="10", title="X")
    assert none.status_code == 422 and "Choose what to invoice" in field_error(none.get_data(as_text=True),
                                                                               "contract_id")
    both = request_invoice(client, csrf, contract, order_id=order.id)
    assert both.status_code == 422 and "Choose only one" in field_error(both.get_data(as_text=True), "order_id")
    assert count(system_session, InvoiceRequest) == 0


def test_currency_and_customer_must_match_the_source(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    other = make_customer(system_session, org.rep_east, "Other Co")
    order = make_order(system_session, org.rep_east, customer, total="300.00", currency="EUR")
    client = client_as(org.rep_east)
    response = request_invoice(client, csrf, order, amount="100", currency="CNY")
    assert response.status_code == 422 and "(EUR)" in field_error(response.get_data(as_text=True), "currency")
    response = request_invoice(client, csrf, order, amount="100", customer_id=other.id)
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "customer_id")
    response = request_invoice(client, csrf, order, amount="300.01")
    assert response.status_code == 422
    assert "300.00 EUR" in field_error(response.get_data(as_text=True), "amount")
    created_id(request_invoice(client, csrf, order, amount="300.00", currency="eur"), "invoice_request")


def test_request_button_is_prefilled_from_the_source_and_the_last_request(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="8000.00")
    client = client_as(org.rep_east)
    created_id(request_invoice(client, csrf, contract, amount="1000", title="远景科技（上海）有限公司",
                               bank="工商银行", bank_account="6222"), "invoice_request")
    second = make_contract(system_session, org.rep_east, customer, amount="2500.00")
    html = client.get(f"/r/contract/{second.id}").get_data(as_text=True)
    link = html[html.index("/r/invoice_request/new?"):].split('"')[0].replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert f'name="contract_id" value="{second.id}"' in form or f'value="{second.id}"' in form
    assert 'value="2500.00"' in form and "远景科技（上海）有限公司" in form and VALID_TAX_NUMBER in form
    assert 'value="工商银行"' in form
    # on a payment page too
    payment = make_payment(system_session, org.rep_east, second, amount="700.00")
    html = client.get(f"/r/payment/{payment.id}").get_data(as_text=True)
    assert f"payment_id={payment.id}" in html and "amount=700.00" in html


def test_approval_is_its_own_permission(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    rep = client_as(org.rep_east)
    request_id = created_id(request_invoice(rep, csrf, contract), "invoice_request")
    token = csrf(rep, "/")
    assert rep.post(f"/invoices/requests/{request_id}/approve", data={"csrf_token": token}).status_code == 403
    assert "Approve" not in rep.get(f"/r/invoice_request/{request_id}").get_data(as_text=True)
    # a manager of another team cannot even see it
    west = client_as(org.manager_west)
    assert west.post(f"/invoices/requests/{request_id}/approve",
                     data={"csrf_token": csrf(west, "/")}).status_code == 404
    assert reload(system_session, InvoiceRequest, request_id).status == "requested"
    manager = client_as(org.manager_east)
    response = manager.post(f"/invoices/requests/{request_id}/approve", data={"csrf_token": csrf(manager, "/")})
    assert response.status_code == 302
    request = reload(system_session, InvoiceRequest, request_id)
    assert request.status == "approved" and request.decided_by_id == org.manager_east.id
    entry = system_session.execute(select(AuditEntry).where(
        AuditEntry.entity == "invoice_request", AuditEntry.record_id == request_id,
        AuditEntry.action == "update")).scalars().all()[-1]
    assert entry.changes["status"] == ["requested", "approved"] and entry.user_id == org.manager_east.id
    # decided once: a second decision is refused, and the owner can no longer change it
    manager.post(f"/invoices/requests/{request_id}/reject", data={"csrf_token": csrf(manager, "/"), "reason": "x"})
    assert reload(system_session, InvoiceRequest, request_id).status == "approved"
    token = csrf(rep, f"/r/invoice_request/{request_id}/edit")
    edit = rep.post(f"/r/invoice_request/{request_id}/edit", data={
        "csrf_token": token, "contract_id": contract.id, "amount": "5", "title": "T", "type": "normal"})
    assert edit.status_code == 422 and "waiting for approval" in edit.get_data(as_text=True)


def test_rejecting_needs_a_reason_shown_to_the_requester(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    rep = client_as(org.rep_east)
    request_id = created_id(request_invoice(rep, csrf, contract), "invoice_request")
    boss = client_as(org.boss)
    form = boss.get(f"/invoices/requests/{request_id}/reject")
    assert form.status_code == 200
    empty = boss.post(f"/invoices/requests/{request_id}/reject", data={"csrf_token": csrf(boss, "/"), "reason": " "})
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    assert reload(system_session, InvoiceRequest, request_id).status == "requested"
    done = boss.post(f"/invoices/requests/{request_id}/reject", data={"csrf_token": csrf(boss, "/"),
                                                                      "reason": "抬头与合同不符"})
    assert done.status_code == 302
    request = reload(system_session, InvoiceRequest, request_id)
    assert request.status == "rejected" and request.decision_reason == "抬头与合同不符"
    assert "抬头与合同不符" in rep.get(f"/r/invoice_request/{request_id}").get_data(as_text=True)


def test_status_moves_only_through_the_actions(org, api_as, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer)
    api = api_as(org.rep_east)
    response = api.post("/api/v1/invoice_request", json={"contract_id": contract.id, "amount": "100.00",
                                                          "status": "approved"})
    assert response.status_code == 422 and "status" in response.get_json()["fields"]
    response = api.post("/api/v1/invoice_request", json={"contract_id": contract.id, "amount": "100.00"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "requested" and body["title"] == customer.name and body["currency"] == "CNY"
    patched = api.patch(f"/api/v1/invoice_request/{body['id']}", json={"status": "approved"})
    assert patched.status_code == 422 and "status" in patched.get_json()["fields"]
    assert reload(system_session, InvoiceRequest, body["id"]).status == "requested"


def test_a_blank_title_takes_the_customers_name_when_visible(org, client_as, csrf, system_session):
    own = make_customer(system_session, org.rep_east, "杭州云栖科技")
    contract = make_contract(system_session, org.rep_east, own)
    client = client_as(org.rep_east)
    request_id = created_id(request_invoice(client, csrf, contract, title=""), "invoice_request")
    assert reload(system_session, InvoiceRequest, request_id).title == "杭州云栖科技"
    # a contract of his whose customer belongs to a colleague of another team: no name to lend
    foreign = make_customer(system_session, org.rep_west, "Hidden Co")
    other = make_contract(system_session, org.rep_east, foreign)
    response = request_invoice(client, csrf, other, title="")
    assert response.status_code == 422 and "buyer's name" in field_error(response.get_data(as_text=True), "title")
