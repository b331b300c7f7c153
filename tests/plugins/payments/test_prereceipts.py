"""Pre-receipts (预收款): recorded per customer, applied to plans of the same customer and currency, never more
than the unapplied balance nor the plan's remaining amount; each application is a payment row."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from payments_helpers import (
    Payment, PaymentPlan, Prereceipt, created_id, form_errors, fresh, make_contract, make_order, plan_row,
)
from plugins.payments.models import PrereceiptApplication


def new_prereceipt(client, csrf, customer_id, amount, currency="CNY"):
    token = csrf(client, "/r/prereceipt/new")
    return client.post("/r/prereceipt/new", data={"csrf_token": token, "customer_id": customer_id, "amount": amount,
                                                   "currency": currency, "received_on": "2026-02-01",
                                                   "method": "bank_transfer", "reference": "BANK-778"})


def apply(client, csrf, prereceipt_id, plan_id, amount):
    token = csrf(client, f"/r/prereceipt/{prereceipt_id}")
    return client.post(f"/payments/prereceipts/{prereceipt_id}/apply", data={
        "csrf_token": token, "plan_id": plan_id, "amount": amount, "applied_on": "2026-02-10"})


def test_applying_a_prereceipt_within_its_balance_and_the_plans_remaining(org, deal, client_as, csrf,
                                                                          system_session):
    customer, contract, order = deal
    plan_a = plan_row(system_session, contract, "2000.00", dt.date(2026, 3, 1))
    plan_b = plan_row(system_session, order, "5000.00", dt.date(2026, 4, 1))
    usd_contract = make_contract(system_session, org.rep_east, customer, amount="900.00", currency="USD")
    plan_usd = plan_row(system_session, usd_contract, "900.00", dt.date(2026, 4, 1))
    rep = client_as(org.rep_east)
    prereceipt_id = created_id(new_prereceipt(rep, csrf, customer.id, "3000.00"), "prereceipt")
    prereceipt = fresh(system_session, Prereceipt, prereceipt_id)
    assert prereceipt.owner_id == org.rep_east.id and prereceipt.applied_amount == Decimal("0.00")

    page = rep.get(f"/r/prereceipt/{prereceipt_id}").get_data(as_text=True)
    assert 'id="apply-form"' in page and f'value="{plan_a.id}"' in page and f'value="{plan_usd.id}"' not in page

    too_much_for_plan = apply(rep, csrf, prereceipt_id, plan_a.id, "2500.00")
    assert too_much_for_plan.status_code == 422
    assert "remains to be paid" in form_errors(too_much_for_plan.get_data(as_text=True), "amount", "apply-amount-errors")
    other_currency = apply(rep, csrf, prereceipt_id, plan_usd.id, "100.00")
    assert other_currency.status_code == 422
    assert "same customer and currency" in form_errors(other_currency.get_data(as_text=True), "plan_id",
                                                       "apply-plan-errors")

    assert apply(rep, csrf, prereceipt_id, plan_a.id, "2000.00").status_code == 302
    over_balance = apply(rep, csrf, prereceipt_id, plan_b.id, "1500.00")
    assert over_balance.status_code == 422
    assert "not applied yet" in form_errors(over_balance.get_data(as_text=True), "amount", "apply-amount-errors")
    assert apply(rep, csrf, prereceipt_id, plan_b.id, "1000.00").status_code == 302

    prereceipt = fresh(system_session, Prereceipt, prereceipt_id)
    assert (prereceipt.applied_amount, prereceipt.balance) == (Decimal("3000.00"), Decimal("0.00"))
    a, b = fresh(system_session, PaymentPlan, plan_a.id), fresh(system_session, PaymentPlan, plan_b.id)
    assert (a.status, a.received_amount) == ("paid", Decimal("2000.00"))
    assert (b.status, b.received_amount) == ("partial", Decimal("1000.00"))
    payments = system_session.execute(select(Payment).order_by(Payment.id)).scalars().all()
    assert [(p.plan_id, p.amount, p.method, p.prereceipt_id) for p in payments] == [
        (plan_a.id, Decimal("2000.00"), "prereceipt", prereceipt_id),
        (plan_b.id, Decimal("1000.00"), "prereceipt", prereceipt_id)]
    applications = system_session.execute(select(PrereceiptApplication).order_by(PrereceiptApplication.id)).scalars()
    assert [(x.plan_id, x.payment_id, x.amount) for x in applications] == [
        (plan_a.id, payments[0].id, Decimal("2000.00")), (plan_b.id, payments[1].id, Decimal("1000.00"))]

    # a payment made from a pre-receipt cannot be changed in the payment form
    manager = client_as(org.manager_east)
    response = manager.post(f"/r/payment/{payments[0].id}/edit", data={
        "csrf_token": csrf(manager, "/"), "plan_id": plan_a.id, "amount": "1.00", "method": "prereceipt",
        "version": payments[0].version})
    assert response.status_code == 422 and "pre-receipt" in form_errors(response.get_data(as_text=True), "amount")
    customer_page = rep.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert 'id="customer-receivables"' in customer_page and 'id="customer-prereceipts"' in customer_page


def test_prereceipt_amount_and_customer_rules(org, deal, client_as, csrf, system_session):
    customer, contract, _order = deal
    plan = plan_row(system_session, contract, "2000.00", dt.date(2026, 3, 1))
    rep = client_as(org.rep_east)
    prereceipt_id = created_id(new_prereceipt(rep, csrf, customer.id, "500.00"), "prereceipt")
    assert apply(rep, csrf, prereceipt_id, plan.id, "300.00").status_code == 302
    version = fresh(system_session, Prereceipt, prereceipt_id).version
    response = rep.post(f"/r/prereceipt/{prereceipt_id}/edit", data={
        "csrf_token": csrf(rep, "/"), "customer_id": customer.id, "currency": "CNY", "amount": "200.00",
        "version": version})
    assert response.status_code == 422 and "cannot be less" in form_errors(response.get_data(as_text=True), "amount")
    response = rep.post(f"/r/prereceipt/{prereceipt_id}/edit", data={
        "csrf_token": csrf(rep, "/"), "customer_id": customer.id, "currency": "USD", "amount": "500.00",
        "version": version})
    assert response.status_code == 422 and "fixed" in form_errors(response.get_data(as_text=True), "currency")
    # another salesperson's customer is "not found"
    west = client_as(org.rep_west)
    response = new_prereceipt(west, csrf, customer.id, "100.00")
    assert response.status_code == 422 and "Not found." in form_errors(response.get_data(as_text=True), "customer_id")
    assert west.get(f"/payments/prereceipts/{prereceipt_id}/apply").status_code == 404
    before = system_session.execute(select(func.count(Payment.id))).scalar()
    assert west.post(f"/payments/prereceipts/{prereceipt_id}/apply", data={
        "csrf_token": csrf(west, "/"), "plan_id": plan.id, "amount": "10.00"}).status_code == 404
    system_session.rollback()
    assert system_session.execute(select(func.count(Payment.id))).scalar() == before


def test_a_salesperson_cannot_apply_his_prereceipt_to_a_plan_he_cannot_see(org, client_as, csrf, system_session):
    from payments_helpers import make_customer
    customer = make_customer(system_session, org.rep_east)
    west_order = make_order(system_session, org.rep_west, customer, total="800.00")  # shared customer, west's order
    west_plan = plan_row(system_session, west_order, "800.00", dt.date(2026, 3, 1))
    rep = client_as(org.rep_east)
    prereceipt_id = created_id(new_prereceipt(rep, csrf, customer.id, "500.00"), "prereceipt")
    response = apply(rep, csrf, prereceipt_id, west_plan.id, "100.00")
    assert response.status_code == 422
    assert "Not found." in form_errors(response.get_data(as_text=True), "plan_id", "apply-plan-errors")
    assert fresh(system_session, PaymentPlan, west_plan.id).received_amount == Decimal("0.00")
    assert fresh(system_session, Prereceipt, prereceipt_id).applied_amount == Decimal("0.00")
