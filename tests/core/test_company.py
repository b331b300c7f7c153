"""The company settings page (/admin/company): administrators only, CSRF, validated at the field, stored in
the ``setting`` table, an optional PNG/JPEG logo with a size cap; the PDF letterhead reads it."""
from __future__ import annotations

import base64
import io

from sqlalchemy import select

from core.admin.company import LOGO_MAX_BYTES, SETTING_KEY, company_settings
from core.models import AuditEntry, Setting

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
VALID = {"name": "上海关系贸易有限公司", "name_en": "Shanghai Guanxi Trading", "address": "上海市浦东新区世纪大道 100 号",
         "address_en": "", "phone": "021-5555 0100", "email": "sales@guanxi.example",
         "tax_number": "91310000ma1fl12345", "bank": "中国工商银行上海分行", "bank_account": "1001 2345 6789"}


def post(client, csrf, data, **files):
    return client.post("/admin/company", data={**data, **files, "csrf_token": csrf(client, "/admin/company")},
                       content_type="multipart/form-data")


def stored(system_session):
    system_session.rollback()  # a fresh snapshot (MariaDB's REPEATABLE READ would keep showing the old one)
    system_session.expire_all()
    row = system_session.execute(select(Setting).where(Setting.key == SETTING_KEY)).scalar_one_or_none()
    return row.value if row else None


def test_only_administrators_open_the_page(org, client_as):
    assert client_as(org.admin).get("/admin/company").status_code == 200
    assert client_as(org.rep_east).get("/admin/company").status_code == 403
    assert client_as(org.manager_east).get("/admin/company").status_code == 403


def test_saving_the_settings(org, client_as, csrf, system_session, app):
    admin = client_as(org.admin)
    response = post(admin, csrf, VALID, logo=(io.BytesIO(PNG), "标志.png"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/company")
    value = stored(system_session)
    assert value["name"] == "上海关系贸易有限公司" and value["tax_number"] == "91310000MA1FL12345"
    assert value["logo_mimetype"] == "image/png" and base64.b64decode(value["logo_base64"]) == PNG
    with app.app_context():
        settings = company_settings()
    assert settings.display_name("en") == "Shanghai Guanxi Trading" and settings.display_name("zh_CN") == VALID["name"]
    assert settings.display_address("en") == VALID["address"]  # no English address: the Chinese one
    assert settings.logo_data_uri.startswith("data:image/png;base64,")
    html = admin.get("/admin/company").get_data(as_text=True)
    assert 'value="上海关系贸易有限公司"' in html and 'src="data:image/png;base64,' in html
    audit = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "company")).scalars().all()
    assert len(audit) == 1 and audit[0].user_id == org.admin.id and audit[0].changes["logo"] == [False, True]
    # saving again without a file keeps the logo; the checkbox removes it
    assert post(admin, csrf, {**VALID, "phone": "021-6666 0100"}).status_code == 302
    assert stored(system_session)["logo_base64"] and stored(system_session)["phone"] == "021-6666 0100"
    assert post(admin, csrf, {**VALID, "remove_logo": "1"}).status_code == 302
    assert stored(system_session)["logo_base64"] == ""


def test_errors_appear_at_their_field_and_nothing_is_saved(org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    bad = {**VALID, "name": " ", "email": "not-an-address", "tax_number": "12-34", "bank_account": "abc",
           "phone": "call me"}
    response = post(admin, csrf, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("name", "email", "tax_number", "bank_account", "phone"):
        assert f'id="{field}" name="{field}"' in html
        assert f'class="form-control is-invalid" id="{field}"' in html, field
    assert 'value="not-an-address"' in html  # the input is kept
    assert stored(system_session) is None


def test_logo_must_be_a_small_png_or_jpeg(org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = post(admin, csrf, VALID, logo=(io.BytesIO(svg), "logo.png"))
    assert response.status_code == 422 and "PNG or JPEG" in response.get_data(as_text=True)
    big = PNG + b"\0" * LOGO_MAX_BYTES
    response = post(admin, csrf, VALID, logo=(io.BytesIO(big), "big.png"))
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)
    assert stored(system_session) is None
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 64
    assert post(admin, csrf, VALID, logo=(io.BytesIO(jpeg), "logo.jpg")).status_code == 302
    assert stored(system_session)["logo_mimetype"] == "image/jpeg"


def test_csrf_is_required(org, client_as, system_session):
    response = client_as(org.admin).post("/admin/company", data=VALID)
    assert response.status_code == 400
    assert stored(system_session) is None
