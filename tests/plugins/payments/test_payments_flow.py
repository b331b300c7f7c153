"""Payments (回款): plans on contracts and orders, the 回款 action with partial payments, over-payment, signals."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.models import AuditEntry
from payments_helpers import (
    Payment, PaymentPlan, add_plan, created_id, form_errors, fresh, make_customer, pay, payments_of,
)


def test_a_plan_copies_customer_currency_and_owner_and_plans_stay_within_the_contract(org, deal, client_as, csrf,
                                                                                       system_session):
    customer, contract, order = deal
    manager = client_as(org.manager_east)
    first = created_id(add_plan(manager, csrf, "contract_id", contract.id, "6000.00", title="首付款"), "payment_plan")
    plan = fresh(system_session, PaymentPlan, first)
    assert (plan.customer_id, plan.currency, plan.instalment, plan.status) == (customer.id, "CNY", 1, "unpaid")
    assert plan.owner_id == org.rep_east.id  # the contract's owner, not the manager who typed it
    assert plan.received_amount == Decimal("0.00")

    # 6,000 + 5,000 > 10,000: refused at the amount, nothing saved
    response = add_plan(manager, csrf, "contract_id", contract.id, "5000.00")
    assert response.status_code == 422
    assert "still unplanned" in form_errors(response.get_data(as_text=True), "amount")
    # a currency other than the contract's is an error at the currency
    response = add_plan(manager, csrf, "contract_id", contract.id, "1000.00", currency="USD")
    assert response.status_code == 422 and "currency must be" in form_errors(response.get_data(as_text=True),
                                                                             "currency")
    # exactly one parent
    response = add_plan(manager, csrf, "contract_id", contract.id, "100.00", order_id=order.id)
    assert response.status_code == 422 and "exactly one" in form_errors(response.get_data(as_text=True),
                                                                         "contract_id")
    second = created_id(add_plan(manager, csrf, "contract_id", contract.id, "4000.00"), "payment_plan")
    assert fresh(system_session, PaymentPlan, second).instalment == 2
    assert system_session.execute(select(PaymentPlan.id).order_by(PaymentPlan.id)).scalars().all() == [first, second]
    page = client_as(org.rep_east).get(f"/r/contract/{contract.id}").get_data(as_text=True)
    assert 'id="payment-plans"' in page and "首付款" in page and f"/payments/plans/{first}/pay" in page


def test_the_pay_action_prefills_the_form_and_partial_payments_follow_the_plan(org, deal, client_as, csrf,
                                                                               system_session):
    from plugins.payments.signals import payment_received
    customer, _contract, order = deal
    rep = client_as(org.rep_east)
    plan_id = created_id(add_plan(rep, csrf, "order_id", order.id, "5000.00"), "payment_plan")

    response = rep.get(f"/payments/plans/{plan_id}/pay")
    assert response.status_code == 302
    form = rep.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="5000.00"' in form  # amount = what remains
    assert f'value="{plan_id}" selected' in form.replace("\n", "") or f'"{plan_id}"' in form
    assert 'name="received_on"' in form and 'value="CNY" selected' in form

    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)
    payment_received.connect(listener)
    try:
        assert pay(rep, csrf, plan_id, "2000.00", customer_id=customer.id, currency="CNY").status_code == 302
        plan = fresh(system_session, PaymentPlan, plan_id)
        assert (plan.received_amount, plan.status, plan.remaining) == (Decimal("2000.00"), "partial",
                                                                       Decimal("3000.00"))
        assert pay(rep, csrf, plan_id, "3000.00").status_code == 302
    finally:
        payment_received.disconnect(listener)
    plan = fresh(system_session, PaymentPlan, plan_id)
    assert (plan.received_amount, plan.status) == (Decimal("5000.00"), "paid")
    payments = payments_of(system_session, plan_id)
    assert [p.amount for p in payments] == [Decimal("2000.00"), Decimal("3000.00")]
    assert {p.order_id for p in payments} == {order.id} and {p.owner_id for p in payments} == {org.rep_east.id}
    assert [h["payment_id"] for h in heard] == [p.id for p in payments]
    assert heard[0]["amount"] == Decimal("2000.00") and heard[0]["currency"] == "CNY"
    # a paid plan offers no 回款 any more
    assert rep.get(f"/payments/plans/{plan_id}/pay").headers["Location"].endswith(f"/r/payment_plan/{plan_id}")
    plan_page = rep.get(f"/r/payment_plan/{plan_id}").get_data(as_text=True)
    assert 'data-plan-status="paid"' in plan_page and f"/payments/plans/{plan_id}/pay" not in plan_page
    order_page = rep.get(f"/r/order/{order.id}").get_data(as_text=True)
    assert f'data-plan-id="{plan_id}"' in order_page and f"/payments/plans/{plan_id}/pay" not in order_page


def test_paying_beyond_the_remaining_amount_needs_a_flagged_reason_and_is_audited(org, deal, client_as, csrf,
                                                                                  system_session):
    _customer, contract, _order = deal
    rep = client_as(org.rep_east)
    plan_id = created_id(add_plan(rep, csrf, "contract_id", contract.id, "1000.00"), "payment_plan")
    assert pay(rep, csrf, plan_id, "600.00").status_code == 302

    refused = pay(rep, csrf, plan_id, "500.00", note="kept note")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Only" in form_errors(html, "amount") and "400.00" in form_errors(html, "amount")
    assert "kept note" in html  # what was typed is shown again
    no_reason = pay(rep, csrf, plan_id, "500.00", overpayment="on")
    assert no_reason.status_code == 422
    assert "reason" in form_errors(no_reason.get_data(as_text=True), "overpayment_reason")
    assert len(payments_of(system_session, plan_id)) == 1  # nothing half-saved

    accepted = pay(rep, csrf, plan_id, "500.00", overpayment="on", overpayment_reason="客户多付运费 freight")
    payment_id = created_id(accepted, "payment")
    payment = fresh(system_session, Payment, payment_id)
    assert payment.overpayment and payment.overpayment_reason == "客户多付运费 freight"
    plan = fresh(system_session, PaymentPlan, plan_id)
    assert (plan.received_amount, plan.status, plan.remaining) == (Decimal("1100.00"), "paid", Decimal("0.00"))
    entries = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "payment_plan",
                                                              AuditEntry.record_id == plan_id)).scalars().all()
    assert any("overpayment" in e.changes and e.changes["overpayment_reason"][1] == "客户多付运费 freight"
               for e in entries)
    created = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "payment",
                                                              AuditEntry.record_id == payment_id)).scalar_one()
    assert created.changes["overpayment"] == [None, True]
    # an over-payment ticked where none is needed is not flagged
    other = created_id(add_plan(rep, csrf, "contract_id", contract.id, "1000.00"), "payment_plan")
    quiet = created_id(pay(rep, csrf, other, "10.00", overpayment="on", overpayment_reason="x"), "payment")
    assert not fresh(system_session, Payment, quiet).overpayment


def test_a_payment_must_match_its_plan_and_deleting_it_reopens_the_plan(org, deal, client_as, csrf, system_session):
    customer, contract, _order = deal
    rep = client_as(org.rep_east)
    plan_id = created_id(add_plan(rep, csrf, "contract_id", contract.id, "1000.00"), "payment_plan")
    other_customer = make_customer(system_session, org.rep_east, "Other Co")
    wrong = pay(rep, csrf, plan_id, "10.00", customer_id=other_customer.id)
    assert wrong.status_code == 422 and "customer must be" in form_errors(wrong.get_data(as_text=True), "customer_id")
    wrong = pay(rep, csrf, plan_id, "10.00", currency="EUR")
    assert wrong.status_code == 422 and "currency must be" in form_errors(wrong.get_data(as_text=True), "currency")
    decimals = pay(rep, csrf, plan_id, "10.005")
    assert decimals.status_code == 422
    assert payments_of(system_session, plan_id) == []

    payment_id = created_id(pay(rep, csrf, plan_id, "1000.00"), "payment")
    assert fresh(system_session, PaymentPlan, plan_id).status == "paid"
    # salespeople cannot remove a payment; their manager can, and the plan follows in the same transaction
    assert rep.post(f"/r/payment/{payment_id}/delete", data={"csrf_token": csrf(rep, "/")}).status_code == 403
    manager = client_as(org.manager_east)
    assert manager.post(f"/r/payment/{payment_id}/delete",
                        data={"csrf_token": csrf(manager, "/")}).status_code == 302
    plan = fresh(system_session, PaymentPlan, plan_id)
    assert (plan.received_amount, plan.status) == (Decimal("0.00"), "unpaid")
    assert manager.post(f"/r/payment/{payment_id}/restore",
                        data={"csrf_token": csrf(manager, "/")}).status_code == 302
    assert fresh(system_session, PaymentPlan, plan_id).status == "paid"


def test_a_plan_amount_cannot_drop_below_what_was_received(org, deal, client_as, csrf, system_session):
    _customer, contract, _order = deal
    rep = client_as(org.rep_east)
    plan_id = created_id(add_plan(rep, csrf, "contract_id", contract.id, "1000.00"), "payment_plan")
    pay(rep, csrf, plan_id, "400.00")
    token = csrf(rep, f"/r/payment_plan/{plan_id}/edit")
    version = fresh(system_session, PaymentPlan, plan_id).version
    response = rep.post(f"/r/payment_plan/{plan_id}/edit", data={
        "csrf_token": token, "contract_id": contract.id, "amount": "300.00", "due_on": "2026-03-01",
        "version": version})
    assert response.status_code == 422 and "cannot be less" in form_errors(response.get_data(as_text=True), "amount")
    response = rep.post(f"/r/payment_plan/{plan_id}/edit", data={
        "csrf_token": token, "contract_id": contract.id, "amount": "400.00", "due_on": "2026-03-01",
        "version": version})
    assert response.status_code == 302
    assert fresh(system_session, PaymentPlan, plan_id).status == "paid"


def test_plans_in_the_api(org, deal, api_as, system_session):
    customer, contract, _order = deal
    api = api_as(org.rep_east)
    response = api.post("/api/v1/payment_plan", json={"contract_id": contract.id, "amount": "2500.00",
                                                      "due_on": "2026-05-01", "title": "进度款"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["customer_id"] == customer.id and body["currency"] == "CNY" and body["status"] == "unpaid"
    over = api.post("/api/v1/payment_plan", json={"contract_id": contract.id, "amount": "9000.00",
                                                  "due_on": "2026-06-01"})
    assert over.status_code == 422 and "amount" in over.get_json()["fields"]
    paid = api.post("/api/v1/payment", json={"plan_id": body["id"], "amount": "500.00"})
    assert paid.status_code == 201, paid.get_json()
    assert api.get(f"/api/v1/payment_plan/{body['id']}").get_json()["received_amount"] == "500.00"
    assert api_as(org.rep_west).get(f"/api/v1/payment_plan/{body['id']}").status_code == 404


def test_money_received_keeps_its_plan_and_the_plan_its_contract(org, deal, client_as, csrf, system_session):
    """Deleting a plan with payments, or a contract or order with plans, is refused (the received money would
    count against nothing); once the payments are gone the plan can go, and then the contract."""
    from plugins.contracts.models import Contract
    customer, contract, order = deal
    rep, manager = client_as(org.rep_east), client_as(org.manager_east)
    plan_id = created_id(add_plan(rep, csrf, "contract_id", contract.id, "1000.00"), "payment_plan")
    order_plan_id = created_id(add_plan(rep, csrf, "order_id", order.id, "500.00"), "payment_plan")
    payment_id = created_id(pay(rep, csrf, plan_id, "400.00"), "payment")

    refused = manager.post(f"/r/payment_plan/{plan_id}/delete", data={"csrf_token": csrf(manager, "/")})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/r/payment_plan/{plan_id}")
    assert "This payment plan has payments" in manager.get(refused.headers["Location"]).get_data(as_text=True)
    refused = manager.post(f"/r/contract/{contract.id}/delete", data={"csrf_token": csrf(manager, "/")})
    assert refused.headers["Location"].endswith(f"/r/contract/{contract.id}")
    refused = manager.post(f"/r/order/{order.id}/delete", data={"csrf_token": csrf(manager, "/")})
    assert refused.headers["Location"].endswith(f"/r/order/{order.id}")
    assert fresh(system_session, PaymentPlan, plan_id).deleted_at is None
    assert fresh(system_session, Contract, contract.id).deleted_at is None

    for url in (f"/r/payment/{payment_id}/delete", f"/r/payment_plan/{plan_id}/delete",
                f"/r/contract/{contract.id}/delete"):
        assert manager.post(url, data={"csrf_token": csrf(manager, "/")}).headers["Location"].endswith("/r/" + url.split("/")[2] + "/")
    assert fresh(system_session, Contract, contract.id).deleted_at is not None
    assert fresh(system_session, PaymentPlan, order_plan_id).deleted_at is None
