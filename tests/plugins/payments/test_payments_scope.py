"""Scope: out-of-scope plans, payments and pre-receipts answer 404 like missing ones, and a write aimed at them
changes nothing (SECURITY.md items 3 and 4)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from payments_helpers import Payment, PaymentPlan, Prereceipt, form_errors, fresh, pay, payment_row, plan_row


def snapshot(session):
    session.rollback()
    rows = []
    for model in (PaymentPlan, Payment, Prereceipt):
        rows += [(model.__tablename__, r.id, r.version, str(getattr(r, "amount")), str(getattr(r, "received_amount",
                  getattr(r, "applied_amount", "")))) for r in session.execute(
                  select(model).execution_options(include_deleted=True, populate_existing=True).order_by(model.id)).scalars()]
    return rows


def test_other_salespeople_get_404_and_change_nothing(org, deal, client_as, csrf, system_session):
    customer, contract, order = deal
    plan = plan_row(system_session, contract, "1000.00", dt.date(2026, 3, 1))
    payment = payment_row(system_session, plan, "100.00")
    prereceipt = Prereceipt(customer_id=customer.id, currency="CNY", amount=500, applied_amount=0,
                            received_on=dt.date(2026, 2, 1), method="cash", custom={}, owner_id=org.rep_east.id,
                            department_id=org.rep_east.department_id)
    system_session.add(prereceipt)
    system_session.commit()
    before = snapshot(system_session)
    west = client_as(org.rep_west)
    token = csrf(west, "/")
    for url in (f"/r/payment_plan/{plan.id}", f"/r/payment/{payment.id}", f"/r/prereceipt/{prereceipt.id}",
                f"/payments/plans/{plan.id}/pay", f"/r/payment_plan/{plan.id}/edit",
                f"/payments/prereceipts/{prereceipt.id}/apply"):
        assert west.get(url).status_code == 404, url
    assert west.get("/payments/plans/999999/pay").status_code == 404
    for url, data in ((f"/r/payment_plan/{plan.id}/edit", {"amount": "1.00", "due_on": "2026-01-01"}),
                      (f"/r/payment_plan/{plan.id}/delete", {}),
                      (f"/payments/prereceipts/{prereceipt.id}/apply", {"plan_id": plan.id, "amount": "1.00"})):
        assert west.post(url, data={"csrf_token": token, **data}).status_code in (403, 404), url
    # paying someone else's plan, or planning on someone else's contract: "not found" at the field
    response = pay(west, csrf, plan.id, "50.00")
    assert response.status_code == 422 and "Not found." in form_errors(response.get_data(as_text=True), "plan_id")
    response = west.post("/r/payment_plan/new", data={"csrf_token": token, "contract_id": contract.id,
                                                       "amount": "10.00", "due_on": "2026-01-01"})
    assert response.status_code == 422
    assert "Not found." in form_errors(response.get_data(as_text=True), "contract_id")
    response = west.post("/r/payment_plan/new", data={"csrf_token": token, "order_id": order.id,
                                                       "amount": "10.00", "due_on": "2026-01-01"})
    assert response.status_code == 422
    assert snapshot(system_session) == before


def test_api_cross_scope(org, deal, api_as, system_session):
    _customer, contract, _order = deal
    plan = plan_row(system_session, contract, "1000.00", dt.date(2026, 3, 1))
    before = snapshot(system_session)
    west = api_as(org.rep_west)
    assert west.get(f"/api/v1/payment_plan/{plan.id}").status_code == 404
    assert west.patch(f"/api/v1/payment_plan/{plan.id}", json={"amount": "1.00"}).status_code == 404
    response = west.post("/api/v1/payment", json={"plan_id": plan.id, "amount": "10.00"})
    assert response.status_code == 422 and "plan_id" in response.get_json()["fields"]
    # stored totals cannot be typed
    east = api_as(org.rep_east)
    response = east.patch(f"/api/v1/payment_plan/{plan.id}", json={"received_amount": "999.00"})
    assert response.status_code in (200, 422)
    assert fresh(system_session, PaymentPlan, plan.id).received_amount == 0
    assert snapshot(system_session)[0][3] == before[0][3]
