"""Fixtures of the payments tests: a customer of rep_east with a contract and an order of his."""
import pytest

from payments_helpers import make_contract, make_customer, make_order


@pytest.fixture
def deal(org, system_session):
    customer = make_customer(system_session, org.rep_east)
    contract = make_contract(system_session, org.rep_east, customer, amount="10000.00")
    order = make_order(system_session, org.rep_east, customer, total="5000.00")
    return customer, contract, order
