"""Normalised duplicate keys (``name_key``, ``phone_key``, ``email_key``) on customers and contacts.

The keys are indexed columns so that the duplicate finder can group in SQL and the create-form warning can
look a value up without a scan. They are kept filled in two ways:

* a column default computed from the row being inserted (``computed``), so Core bulk inserts (imports) get
  them too;
* a ``before_flush`` listener that recomputes them when an ORM object is created or changed.

A Core ``UPDATE`` that changes a name/phone/e-mail bypasses both: call ``fill_keys(record)`` on ORM objects,
or ``refresh_keys(session, model, ids)`` afterwards.
"""
from __future__ import annotations

from sqlalchemy import event, select

from core.normalize import email_key, name_key, phone_digits

NAME_KEY_LENGTH, PHONE_KEY_LENGTH, EMAIL_KEY_LENGTH = 200, 40, 254
MIN_PHONE_DIGITS = 5  # "110" or an extension alone says nothing about who a record is


def name_value(text):
    key = name_key(text)[:NAME_KEY_LENGTH]
    return key or None


def phone_value(text):
    digits = phone_digits(text)[:PHONE_KEY_LENGTH]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def email_value(text):
    key = email_key(text)[:EMAIL_KEY_LENGTH]
    return key if "@" in key else None


# table -> key column -> (normaliser, source columns: the first non-empty one counts)
KEY_SOURCES = {
    "customer": {"name_key": (name_value, ("name",)), "phone_key": (phone_value, ("phone",)),
                 "email_key": (email_value, ("email",))},
    "contact": {"name_key": (name_value, ("name",)), "phone_key": (phone_value, ("mobile", "phone")),
                "email_key": (email_value, ("email",))},
}


def first_key(normaliser, values):
    for value in values:
        key = normaliser(value) if value not in (None, "") else None
        if key:
            return key
    return None


def computed(table: str, key_column: str):
    """Column default: the key computed from the inserted row's own values (works for executemany)."""
    normaliser, sources = KEY_SOURCES[table][key_column]

    def default(context):
        params = context.get_current_parameters()
        return first_key(normaliser, [params.get(name) for name in sources])

    default.__name__ = f"{table}_{key_column}_default"
    return default


def fill_keys(record) -> None:
    """Recompute the keys of one ORM object from its current attribute values."""
    for key_column, (normaliser, sources) in KEY_SOURCES.get(getattr(record, "__tablename__", ""), {}).items():
        value = first_key(normaliser, [getattr(record, name, None) for name in sources])
        if getattr(record, key_column, None) != value:
            setattr(record, key_column, value)


def refresh_keys(session, model, record_ids) -> None:
    """Recompute the keys of rows changed behind the ORM's back (Core updates); caller commits."""
    rows = session.execute(select(model).where(model.id.in_(list(record_ids)))
                           .execution_options(include_deleted=True)).unique().scalars()
    for record in rows:
        fill_keys(record)


def _before_flush(session, _flush_context, _instances):
    for record in list(session.new) + list(session.dirty):
        if getattr(record, "__tablename__", None) in KEY_SOURCES:
            fill_keys(record)


def install(session_class) -> None:
    """Keep keys fresh on every flush of ``session_class`` (idempotent)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


def _install_default():
    from core.db import GuanxiSession
    install(GuanxiSession)


_install_default()  # every session of the app, whoever imports the models
