"""core.numbering: yearly counters per key, numbers stepped over when taken, bulk reservations, and no
number handed out twice when transactions race on a real database."""
from __future__ import annotations

import datetime as dt
import threading

from marshmallow import ValidationError
import pytest
from sqlalchemy import select

from core import numbering
from core.models import NumberSequence
from core.scope import system_scope

DAY = dt.date(2026, 3, 1)


def test_numbers_count_per_key_and_year(app, system_session):
    with app.app_context():
        first = numbering.next_number(system_session, "quotes.quote", "QT", on=DAY)
        second = numbering.next_number(system_session, "quotes.quote", "QT", on=DAY)
        other_key = numbering.next_number(system_session, "orders.order", "SO", width=6, on=DAY)
        next_year = numbering.next_number(system_session, "quotes.quote", "QT", on=dt.date(2027, 1, 1))
        system_session.commit()
    assert (first, second, other_key, next_year) == ("QT-2026-0001", "QT-2026-0002", "SO-2026-000001",
                                                     "QT-2027-0001")
    with app.app_context():
        assert numbering.peek(system_session, "quotes.quote", on=DAY) == 2
        assert numbering.peek(system_session, "contracts.contract", on=DAY) == 0


def test_default_year_is_today_in_the_instance_time_zone(app, system_session):
    with app.app_context():
        number = numbering.next_number(system_session, "quotes.quote", "QT")
        assert number == f"QT-{numbering.today().year}-0001"


def test_taken_numbers_are_stepped_over(app, system_session):
    typed_by_hand = {"HT-2026-0001", "HT-2026-0002"}
    with app.app_context():
        number = numbering.next_number(system_session, "contracts.contract", "HT", on=DAY,
                                       taken=typed_by_hand.__contains__)
        assert number == "HT-2026-0003"
        with pytest.raises(ValidationError) as error:
            numbering.next_number(system_session, "contracts.contract", "HT", on=DAY, taken=lambda n: True)
        assert "number" in error.value.messages


def test_a_rolled_back_number_is_handed_out_again(app, system_session):
    with app.app_context():
        numbering.next_number(system_session, "quotes.quote", "QT", on=DAY)
        system_session.commit()
        assert numbering.next_number(system_session, "quotes.quote", "QT", on=DAY) == "QT-2026-0002"
        system_session.rollback()
        assert numbering.next_number(system_session, "quotes.quote", "QT", on=DAY) == "QT-2026-0002"


def test_reserve_numbers_in_one_step(app, system_session):
    with app.app_context():
        numbering.next_number(system_session, "orders.order", "SO", width=6, on=DAY)
        block = numbering.reserve_numbers(system_session, "orders.order", "SO", 3, width=6, on=DAY)
        assert block == ["SO-2026-000002", "SO-2026-000003", "SO-2026-000004"]
        assert numbering.reserve_numbers(system_session, "orders.order", "SO", 0, on=DAY) == []
        assert numbering.next_number(system_session, "orders.order", "SO", width=6, on=DAY) == "SO-2026-000005"


def test_concurrent_transactions_never_share_a_number(app, gx):
    """Four threads, each with its own connection, take numbers of a counter that does not exist yet (the
    first-number race) and then of the open counter; every number is handed out exactly once."""
    errors, numbers, barrier = [], [], threading.Barrier(4)
    lock = threading.Lock()

    def take(index):
        with app.app_context():
            session = gx.session_factory()
            try:
                with system_scope(session, "test: numbering race"):
                    barrier.wait()
                    for _ in range(5):
                        number = numbering.next_number(session, "race.key", "RC", on=DAY)
                        session.commit()  # one document per transaction, like a create page
                        with lock:
                            numbers.append(number)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))
            finally:
                session.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"RC-2026-{n:04d}" for n in range(1, 21)]
    with gx.system_session("test: check") as session:
        rows = session.execute(select(NumberSequence.key, NumberSequence.year, NumberSequence.last)).all()
    assert rows == [("race.key", 2026, 20)]
