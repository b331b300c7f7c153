"""A module switched off (by an admin or by an invalid licence) disappears — routes 404, menu and panels
gone — while its data stays; switched on again, everything is back. Uses the example third-party plugin."""
import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from core import licence
from core.models import Customer, ModuleState

pytest.importorskip("guanxi_example_visits")


def _visit_setup(gx, org, system_session):
    from guanxi_example_visits.models import SiteVisit
    customer = Customer(name="模块客户", owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    system_session.add(customer)
    system_session.flush()
    system_session.add(SiteVisit(customer_id=customer.id, date=dt.date.today(), purpose="验收",
                                 owner_id=org.rep_east.id, department_id=org.rep_east.department_id))
    system_session.commit()
    return customer.id


def _visible(app, client_as, org, customer_id):
    client = client_as(org.rep_east, app)
    dashboard = client.get("/").get_data(as_text=True)
    detail = client.get(f"/r/customer/{customer_id}").get_data(as_text=True)
    return {
        "summary": client.get("/visits/summary").status_code,
        "list": client.get("/r/site_visit/").status_code,
        "menu": "Site visits" in dashboard,
        "panel": "Site visits" in detail,
    }


def _visit_count(gx):
    from guanxi_example_visits.models import SiteVisit
    with gx.system_session("count") as s:
        return s.execute(select(func.count()).select_from(SiteVisit)).scalar_one()


def test_admin_disable_and_enable(app, gx, org, system_session, app_with, client_as):
    if "visits" not in gx.modules or not gx.modules["visits"].loaded:
        pytest.skip("example plugin not loaded")
    customer_id = _visit_setup(gx, org, system_session)
    assert _visible(app, client_as, org, customer_id) == {"summary": 200, "list": 200, "menu": True, "panel": True}

    system_session.add(ModuleState(name="visits", enabled=False))
    system_session.commit()
    disabled = app_with()
    assert not disabled.extensions["guanxi"].modules["visits"].loaded
    assert _visible(disabled, client_as, org, customer_id) == {"summary": 404, "list": 404, "menu": False,
                                                               "panel": False}
    assert _visit_count(gx) == 1  # the data stays

    state = system_session.execute(select(ModuleState).where(ModuleState.name == "visits")).scalar_one()
    state.enabled = True
    system_session.commit()
    enabled = app_with()
    assert _visible(enabled, client_as, org, customer_id) == {"summary": 200, "list": 200, "menu": True,
                                                              "panel": True}


def test_invalid_licence_disables_and_says_why(app, gx, org, system_session, app_with, client_as, tmp_path):
    if "visits" not in gx.modules or not gx.modules["visits"].loaded:
        pytest.skip("example plugin not loaded")
    customer_id = _visit_setup(gx, org, system_session)
    key = Ed25519PrivateKey.generate()
    public = licence.public_key_b64(key)
    payload = {"licensee": "华宏贸易", "modules": ["visits"], "seats": 50,
               "expires": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
    document = licence.sign(payload, key)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document, ensure_ascii=False))
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**document, "payload": {**payload, "seats": 5000}}, ensure_ascii=False))
    expired_doc = licence.sign({**payload, "expires": "2020-01-01"}, key)
    expired = tmp_path / "expired.json"
    expired.write_text(json.dumps(expired_doc))
    assert base64.b64decode(public)

    licensed = app_with(LICENSE_FILE=str(good), VENDOR_PUBLIC_KEYS=public)
    assert _visible(licensed, client_as, org, customer_id)["summary"] == 200

    for bad, reason in ((tampered, "tampered"), (expired, "expired")):
        blocked = app_with(LICENSE_FILE=str(bad), VENDOR_PUBLIC_KEYS=public)
        info = blocked.extensions["guanxi"].modules["visits"]
        assert not info.loaded and reason in str(info.reason)
        assert _visible(blocked, client_as, org, customer_id) == {"summary": 404, "list": 404, "menu": False,
                                                                  "panel": False}
        admin_page = client_as(org.admin, blocked).get("/admin/modules").get_data(as_text=True)
        assert reason in admin_page
    assert _visit_count(gx) == 1
