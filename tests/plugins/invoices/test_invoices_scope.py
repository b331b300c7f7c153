"""Data scope: requests and invoices of another salesperson's deals answer 404 on every path, and writes that
reach across scopes (a foreign source, approving or voiding a foreign record) change nothing."""
from __future__ import annotations

from plugins.invoices.models import Invoice, InvoiceRequest
from tests.plugins.invoices.invoices_helpers import (
    count, created_id, field_error, make_contract, make_customer, make_payment, record_invoice, reload,
    request_invoice,
)


def _east_records(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="3000.00")
    request_id = created_id(request_invoice(client_as(org.rep_east), csrf, contract), "invoice_request")
    invoice_id = created_id(record_invoice(client_as(org.manager_east), csrf, contract, amount="100.00"), "invoice")
    return contract, request_id, invoice_id


def test_other_peoples_requests_and_invoices_answer_404(org, client_as, api_as, csrf, system_session):
    contract, request_id, invoice_id = _east_records(org, client_as, csrf, system_session)
    west = client_as(org.rep_west)
    for url in (f"/r/invoice_request/{request_id}", f"/r/invoice_request/{request_id}/edit",
                f"/invoices/requests/{request_id}.pdf", f"/r/invoice/{invoice_id}", f"/invoices/invoices/{invoice_id}.pdf"):
        assert west.get(url).status_code == 404, url
    missing = west.get("/r/invoice_request/999999")
    assert missing.status_code == 404
    api = api_as(org.rep_west)
    assert api.get(f"/api/v1/invoice_request/{request_id}").status_code == 404
    assert api.get(f"/api/v1/invoice/{invoice_id}").status_code == 404
    assert request_id not in [row["id"] for row in api.get("/api/v1/invoice_request").get_json()["items"]]
    # the sub-department's salesperson does not see his colleague's either; the manager of both does
    assert client_as(org.rep_east_sub).get(f"/r/invoice/{invoice_id}").status_code == 404
    assert client_as(org.manager_east).get(f"/r/invoice_request/{request_id}").status_code == 200
    # the salesperson sees the invoices of his own deals (read only)
    rep = client_as(org.rep_east)
    assert rep.get(f"/r/invoice/{invoice_id}").status_code == 200
    assert rep.get(f"/r/invoice/{invoice_id}/edit").status_code == 403


def test_writes_across_scopes_change_nothing(org, client_as, api_as, csrf, system_session):
    contract, request_id, invoice_id = _east_records(org, client_as, csrf, system_session)
    before = (count(system_session, InvoiceRequest), count(system_session, Invoice))
    west_rep, west_manager = client_as(org.rep_west), client_as(org.manager_west)
    # a request or an invoice against a contract one cannot see: "not found" at the field
    response = request_invoice(west_rep, csrf, contract)
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "contract_id") == "Not found."
    response = record_invoice(west_manager, csrf, contract, amount="1.00")
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "contract_id") == "Not found."
    payment = make_payment(system_session, org.rep_east, contract, amount="50.00")
    response = api_as(org.rep_west).post("/api/v1/invoice_request", json={"payment_id": payment.id, "amount": "1"})
    assert response.status_code == 422 and "payment_id" in response.get_json()["fields"]
    # an invoice from a request one cannot see
    response = west_manager.post("/r/invoice/new", data={"csrf_token": csrf(west_manager, "/"),
                                                          "request_id": request_id, "number": "W1", "amount": "1"})
    assert response.status_code == 422
    token = csrf(west_manager, "/")
    assert west_manager.post(f"/invoices/requests/{request_id}/approve", data={"csrf_token": token}).status_code == 404
    assert west_manager.post(f"/invoices/requests/{request_id}/reject",
                             data={"csrf_token": token, "reason": "no"}).status_code == 404
    assert west_manager.post(f"/invoices/invoices/{invoice_id}/void",
                             data={"csrf_token": token, "reason": "no"}).status_code == 404
    assert west_manager.post(f"/r/invoice/{invoice_id}/edit", data={"csrf_token": token, "number": "W2",
                                                                    "amount": "1"}).status_code == 404
    assert api_as(org.manager_west).patch(f"/api/v1/invoice/{invoice_id}", json={"amount": "1.00"}).status_code == 404
    assert (count(system_session, InvoiceRequest), count(system_session, Invoice)) == before
    assert reload(system_session, InvoiceRequest, request_id).status == "requested"
    invoice = reload(system_session, Invoice, invoice_id)
    assert (invoice.status, invoice.number != "W2", str(invoice.amount)) == ("issued", True, "100.00")
