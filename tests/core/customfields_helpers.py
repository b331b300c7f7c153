"""Shared helpers of the custom field tests (module builder)."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.customfields import indexes, registry
from core.customfields.models import CustomFieldDef
from core.models import Customer


def add_field_via_admin(client, csrf, entity="customer", expect=302, **values):
    """Post the admin page's "add field" form; returns the new definition's key (or the response)."""
    form = {"csrf_token": csrf(client, "/admin/customfields"), "type": "text", "label_en": "Tax number",
            "label_zh": "税号", **values}
    response = client.post(f"/admin/customfields/{entity}/new", data=form)
    assert response.status_code == expect, response.get_data(as_text=True)[:3000]
    if expect != 302:
        return response
    return newest_key(client.application, entity)


def newest_key(app, entity):
    gx = app.extensions["guanxi"]
    with gx.system_session("test: newest field") as s:
        return s.execute(select(CustomFieldDef.key).where(CustomFieldDef.entity == entity)
                         .order_by(CustomFieldDef.id.desc())).scalars().first()


def field_row(session, key, entity="customer"):
    session.rollback()
    session.expire_all()
    return session.execute(select(CustomFieldDef).where(CustomFieldDef.entity == entity,
                                                        CustomFieldDef.key == key)).scalar_one()


def make_customer(session, owner, name="Customer", custom=None, **fields):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, custom=custom or {},
                      **fields)
    session.add(record)
    session.commit()
    return record


def field_errors(html, name) -> str:
    match = re.search(rf'id="f-{name}-errors"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error block for {name}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def drop_all_indexes(app):
    """Expression indexes (and MariaDB generated columns) survive the test wipe: drop them."""
    gx = app.extensions["guanxi"]
    with app.app_context(), gx.system_session("test: drop custom field indexes") as s:
        rows = s.execute(select(CustomFieldDef)).scalars().all()
        for row in rows:
            spec = gx.entities.get(row.entity)
            if spec is not None:
                indexes.drop_index(s, spec.model, row)
        s.commit()
    registry.forget()
