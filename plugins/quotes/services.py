"""Business rules of quotes: numbers, lines and stored totals, the status flow, revisions, expiry and the
conversion API used by the contracts and orders modules.

Every function takes the caller's session, so the data scope applies to every row it reads: a quote,
customer, contact, opportunity or project the caller cannot see is "not found", exactly like a missing one.
Nothing here commits except where a docstring says so: the view (or job) commits once.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, has_app_context
from marshmallow import ValidationError
from sqlalchemy import func, select

from core import audit, numbering, services as core_services, signals
from core.db import utcnow
from core.i18n import _l
from core.models import Contact, Product
from core.money import is_currency, line_amounts, default_currency, zero
from core.scope import current_scope, get_scoped, system_scope
from plugins.quotes.models import Quote, QuoteConversion, QuoteLine

NUMBER_KEY, NUMBER_PREFIX = "quotes.quote", "QT"
DEFAULT_VALIDITY_DAYS = 30
# status -> the statuses it may be reached from (expired is set by the daily job only)
TRANSITIONS = {"sent": ("draft",), "accepted": ("sent",), "rejected": ("sent",)}
OPEN_STATUSES = ("draft", "sent")


class NotConvertible(ValidationError):
    """The quote exists and is visible but cannot be converted (not accepted, or superseded)."""


def today() -> dt.date:
    return numbering.today()


def validity_days() -> int:
    value = current_app.config.get("QUOTES_VALIDITY_DAYS") if has_app_context() else None
    try:
        return max(1, int(value)) if value is not None else DEFAULT_VALIDITY_DAYS
    except (TypeError, ValueError):
        return DEFAULT_VALIDITY_DAYS


def effective_status(quote, on: dt.date | None = None) -> str:
    """The status to show: a sent quote past its validity is expired even before the nightly job ran."""
    if quote.status == "sent" and quote.valid_until is not None and quote.valid_until < (on or today()):
        return "expired"
    return quote.status


def _error(field, message):
    return ValidationError({field: [str(message)]})


# ------------------------------------------------------------------ save rules (EntitySpec.on_save)

def on_save(session, record: Quote, data: dict) -> None:
    """Rules of every create and edit (form, API): only drafts change; number, currency, validity,
    contact of the customer, linked opportunity/project visible, lines and stored totals."""
    from core.runtime import current

    with session.no_autoflush:
        if record.id is not None and not _was_editable(record):
            raise _error("_schema", _l("Only the latest revision of a draft quote can be changed."))
        if not record.number:
            record.number = numbering.next_number(session, NUMBER_KEY, NUMBER_PREFIX, taken=_number_taken(session))
            record.revision = record.revision or 1
        record.currency = record.currency or default_currency()
        if not is_currency(record.currency):
            raise _error("currency", _l("Choose one of the offered currencies."))
        if record.valid_until is None:
            record.valid_until = today() + dt.timedelta(days=validity_days())
        _check_contact(session, record)
        _check_links(session, record, current().entities)
        lines = data.get("lines")
        if lines is not None:
            before = (len(record.lines), record.total) if record.id is not None else None
            _replace_lines(session, record, lines)
            _audit_lines(session, record, before)
        elif record.id is None:
            raise _error("lines", _l("Add at least one line."))
        else:
            _recompute(record)  # the currency may have changed: amounts follow its minor units
        _sync_line_owners(record)


def _audit_lines(session, record, before):
    """core.services audits the quote's own columns; the lines and the totals they make are audited here."""
    if before is None:
        return
    _totals(record)
    after = (len(record.lines), record.total)
    changes = {"lines": [before[0], after[0]]}
    if before[1] != after[1]:
        changes["total"] = [before[1], after[1]]
    audit.record(session, "quote", record.id, "update", current_scope(session).user_id, changes)


def _was_editable(record) -> bool:
    from sqlalchemy import inspect as sa_inspect
    state = sa_inspect(record)
    status = state.attrs.status.history
    superseded = state.attrs.superseded.history
    before_status = status.deleted[0] if status.deleted else record.status
    before_superseded = superseded.deleted[0] if superseded.deleted else record.superseded
    return before_status == "draft" and not before_superseded


def _number_taken(session):
    def taken(number):
        with system_scope(session, "quotes: unique number"):
            return session.execute(select(Quote.id).where(Quote.number == number)
                                   .execution_options(include_deleted=True).limit(1)).first() is not None
    return taken


def _check_contact(session, record):
    if record.contact_id is None:
        return
    contact = get_scoped(session, Contact, record.contact_id)
    if contact is None:
        raise _error("contact_id", _l("Not found."))
    if contact.customer_id != record.customer_id:
        raise _error("contact_id", _l("This contact does not belong to the chosen customer."))


def _check_links(session, record, registry):
    """The opportunity (its customer must be the quote's) and the project, when their modules are on.
    core.services checks visibility too (reference fields added in plugin.app_configured); this also
    covers callers that bypass it."""
    for field, entity in (("opportunity_id", "opportunity"), ("project_id", "project")):
        value = getattr(record, field)
        target = registry.get(entity)
        if value is None or target is None:
            continue
        linked = get_scoped(session, target.model, value)
        if linked is None:
            raise _error(field, _l("Not found."))
        if entity == "opportunity" and getattr(linked, "customer_id", record.customer_id) != record.customer_id:
            raise _error(field, _l("This opportunity belongs to another customer."))


def _replace_lines(session, record, typed_lines):
    products = _products(session, [line.get("product_id") for line in typed_lines])
    errors, lines = {}, []
    for index, typed in enumerate(typed_lines):
        try:
            lines.append(_line(record, products, typed, index + 1))
        except ValidationError as err:
            errors[index] = err.messages
    if errors:
        raise ValidationError({"lines": errors})
    if not lines:
        raise _error("lines", _l("Add at least one line."))
    record.lines = lines


def _products(session, ids) -> dict:
    wanted = {pid for pid in ids if pid is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.execute(select(Product).where(Product.id.in_(wanted))).scalars()}


def _line(record, products, typed, position) -> QuoteLine:
    product = None
    if typed.get("product_id") is not None:
        product = products.get(typed["product_id"])
        if product is None:
            raise _error("product_id", _l("Not found."))
    description = typed.get("description") or (product.name if product is not None else None)
    if not description:
        raise _error("description", _l("Describe the line or choose a product."))
    unit_price = typed.get("unit_price")
    if unit_price is None:
        if product is None:
            raise _error("unit_price", _l("Enter a price."))
        if product.currency != record.currency:
            raise _error("unit_price", _l("The product is priced in %(currency)s: enter the price in the "
                                          "quote's currency.", currency=product.currency))
        unit_price = product.price
    line = QuoteLine(position=position, product_id=product.id if product is not None else None,
                     description=description[:500], quantity=typed["quantity"],
                     unit=typed.get("unit") or (product.unit if product is not None else None),
                     unit_price=unit_price, discount_percent=typed.get("discount_percent") or Decimal("0"),
                     tax_rate_percent=typed.get("tax_rate_percent") or Decimal("0"))
    return _amounts(line, record.currency)


def _amounts(line, currency):
    line.net, line.tax, line.gross = line_amounts(line.quantity, line.unit_price, line.discount_percent,
                                                  line.tax_rate_percent, currency)
    return line


def _recompute(record):
    for line in record.lines:
        _amounts(line, record.currency)
    _totals(record)


def _totals(record):
    """Stored totals = sums of the rounded line values (never rounded again, docs/money.md)."""
    record.subtotal = sum((line.net for line in record.lines), zero(record.currency))
    record.tax_total = sum((line.tax for line in record.lines), zero(record.currency))
    record.total = sum((line.gross for line in record.lines), zero(record.currency))


def _sync_line_owners(record):
    # lines are OwnedMixin rows: they carry the quote's owner, so the scope hides them with the quote
    for line in record.lines:
        line.owner_id, line.department_id = record.owner_id, record.department_id
    _totals(record)


def lines_follow_owner(sender, record_ids=(), new_owner_id=None, **_kwargs):
    """After core transferred quotes to another owner (``owner_transferred``), their lines follow."""
    if sender != "quote" or not record_ids:
        return
    from core.runtime import current
    with current().system_session("quotes: lines follow a transferred quote") as session:
        quotes = session.execute(select(Quote).where(Quote.id.in_(list(record_ids)))
                                 .execution_options(include_deleted=True)).scalars().all()
        for quote in quotes:
            for line in quote.lines:
                line.owner_id, line.department_id = quote.owner_id, quote.department_id
        session.commit()


# ------------------------------------------------------------------ status flow

def change_status(session, spec, quote_id: int, status: str, version: int | None = None) -> Quote:
    """draft → sent → accepted | rejected, on a quote the caller may edit; audited; no commit."""
    quote = core_services.get(session, spec, quote_id, action="edit")
    if version is not None and version != quote.version:
        raise core_services.StaleVersion(quote.version)
    if status not in TRANSITIONS:
        raise _error("status", _l("Unknown status."))
    if quote.superseded:
        raise _error("status", _l("A newer revision of this quote exists: change that one."))
    current_status = effective_status(quote)
    if current_status not in TRANSITIONS[status]:
        if current_status == "expired":
            raise _error("status", _l("This quote has expired: make a new revision with a new validity date."))
        raise _error("status", _l("This quote cannot go from this status to the one chosen."))
    if status == "sent" and quote.valid_until is not None and quote.valid_until < today():
        raise _error("status", _l("The validity date has passed: change it before sending the quote."))
    _set_status(session, quote, status, current_scope(session).user_id)
    return quote


def _set_status(session, quote, status, user_id):
    old = quote.status
    quote.status = status
    now = utcnow()
    if status == "sent":
        quote.sent_at = now
    elif status in ("accepted", "rejected"):
        quote.decided_at = now
    session.flush()
    audit.record(session, "quote", quote.id, "update", user_id, {"status": [old, status]})
    signals.send_after_commit(session, signals.record_updated, "quote", record_id=quote.id, user_id=user_id,
                              changes={"status": [old, status]})


def expire_quotes(session, on: dt.date | None = None, batch: int = 500) -> int:
    """The daily job: sent quotes past their validity become expired (audited, no user). Runs under the
    worker's system scope; returns how many changed. Drafts are left alone: they were never offered."""
    on = on or today()
    changed = 0
    while True:
        quotes = session.execute(select(Quote).where(Quote.status == "sent", Quote.valid_until < on)
                                 .order_by(Quote.id).limit(batch)).scalars().all()
        for quote in quotes:
            quote.status = "expired"
            audit.record(session, "quote", quote.id, "expire", None, {"status": ["sent", "expired"]})
        session.flush()
        changed += len(quotes)
        if len(quotes) < batch:
            return changed


# ------------------------------------------------------------------ revisions

COPIED = ("number", "customer_id", "contact_id", "opportunity_id", "project_id", "title", "currency", "terms",
          "notes", "owner_id", "department_id")
LINE_COPIED = ("position", "product_id", "description", "quantity", "unit", "unit_price", "discount_percent",
               "tax_rate_percent", "net", "tax", "gross")


def new_revision(session, spec, quote_id: int) -> Quote:
    """Copy a quote the caller may edit into revision n+1 (a draft, same number, ``parent_id``); the copied
    one becomes superseded (read-only). No commit."""
    core_services.require(session, spec.permission("create"))
    old = core_services.get(session, spec, quote_id, action="edit")
    if old.superseded:
        raise _error("_schema", _l("A newer revision of this quote exists already."))
    if conversions(session, old.id):
        raise _error("_schema", _l("This quote has been converted: it cannot be revised any more."))
    with system_scope(session, "quotes: next revision number"):
        last = session.execute(select(func.max(Quote.revision)).where(Quote.number == old.number)
                               .execution_options(include_deleted=True)).scalar() or old.revision
    quote = Quote(**{name: getattr(old, name) for name in COPIED}, revision=last + 1, parent_id=old.id,
                  status="draft", custom=dict(old.custom or {}))
    quote.valid_until = old.valid_until if old.valid_until and old.valid_until >= today() \
        else today() + dt.timedelta(days=validity_days())
    quote.lines = [QuoteLine(**{name: getattr(line, name) for name in LINE_COPIED}) for line in old.lines]
    _sync_line_owners(quote)
    old.superseded = True
    session.add(quote)
    session.flush()
    user_id = current_scope(session).user_id
    audit.record(session, "quote", quote.id, "create", user_id, {"parent_id": [None, old.id],
                                                                   "revision": [None, quote.revision]})
    audit.record(session, "quote", old.id, "update", user_id, {"superseded": [False, True]})
    signals.send_after_commit(session, signals.record_created, "quote", record_id=quote.id, user_id=user_id)
    return quote


def revisions(session, quote) -> list[Quote]:
    """Every visible revision of the quote's number, newest first (the history on the quote page)."""
    from sqlalchemy.orm import lazyload
    return list(session.execute(select(Quote).where(Quote.number == quote.number).options(lazyload(Quote.lines))
                                .order_by(Quote.revision.desc())).unique().scalars())


# ------------------------------------------------------------------ conversion API (contracts, orders)

def accepted_quote_for_conversion(session, quote_id: int) -> Quote:
    """The accepted quote ``quote_id`` with its lines, loaded through the caller's scope.

    Raises ``core.services.NotFound`` when missing, deleted or out of scope, ``NotConvertible`` (messages
    at ``quote_id``) when it is not accepted or a newer revision exists."""
    quote = get_scoped(session, Quote, quote_id)
    if quote is None:
        raise core_services.NotFound(f"quote {quote_id}")
    if quote.superseded:
        raise NotConvertible({"quote_id": [str(_l("A newer revision of this quote exists."))]})
    if quote.status != "accepted":
        raise NotConvertible({"quote_id": [str(_l("Only an accepted quote can be converted."))]})
    quote.lines  # loaded now (selectin), inside the caller's scope
    return quote


def mark_converted(session, quote, target_entity: str, target_id: int) -> QuoteConversion:
    """Record that ``quote`` became ``target_entity`` ``target_id`` (audited, flushed, no commit)."""
    existing = session.execute(select(QuoteConversion).where(
        QuoteConversion.quote_id == quote.id, QuoteConversion.target_entity == target_entity,
        QuoteConversion.target_id == target_id)).scalar_one_or_none()
    if existing is not None:
        return existing
    user_id = current_scope(session).user_id
    row = QuoteConversion(quote_id=quote.id, target_entity=target_entity, target_id=target_id,
                          created_by_id=user_id)
    session.add(row)
    session.flush()
    audit.record(session, "quote", quote.id, "convert", user_id, {"converted_to": [None, f"{target_entity} {target_id}"]})
    return row


def conversions(session, quote_id: int) -> list[QuoteConversion]:
    """What the quote became; through the scoped quote (a quote one cannot see shows nothing)."""
    return list(session.execute(select(QuoteConversion).join(Quote, Quote.id == QuoteConversion.quote_id)
                                .where(QuoteConversion.quote_id == quote_id).order_by(QuoteConversion.id))
                .scalars())


def quotes_for(session, *, customer_id=None, project_id=None, opportunity_id=None, ids=None,
               limit: int = 50) -> list[Quote]:
    """Visible quotes of a customer / project / opportunity (or with these ids), newest first."""
    stmt = select(Quote)
    for column, value in ((Quote.customer_id, customer_id), (Quote.project_id, project_id),
                          (Quote.opportunity_id, opportunity_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if ids is not None:
        stmt = stmt.where(Quote.id.in_([i for i in ids if i is not None] or [-1]))
    from sqlalchemy.orm import lazyload
    return list(session.execute(stmt.options(lazyload(Quote.lines)).order_by(Quote.id.desc()).limit(limit))
                .unique().scalars())
