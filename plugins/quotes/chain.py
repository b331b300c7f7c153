"""The quotes stage of the quote-to-cash chain (hook ``deal_chain``): rows only, no totals — a quote is not
a commitment. Read through the caller's scoped session: the chain shows only quotes the user may see."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from core.chain import POSITIONS, ChainRow, ChainStage
from core.i18n import _l
from core.scope import current_scope
from plugins.quotes import services
from plugins.quotes.models import Quote
from plugins.quotes.schemas import STATUS_CHOICES

ANCHOR_COLUMNS = {"customer": Quote.customer_id, "project": Quote.project_id, "opportunity": Quote.opportunity_id}
MAX_ROWS = 100


def stages(entity, record, session) -> list[ChainStage]:
    if not current_scope(session).has("quotes.quote.view"):
        return []
    stmt = select(Quote).options(lazyload(Quote.lines))
    if entity in ANCHOR_COLUMNS:
        stmt = stmt.where(ANCHOR_COLUMNS[entity] == record.id, Quote.superseded.is_(False))
    elif entity in ("contract", "order") and getattr(record, "quote_id", None) is not None:
        stmt = stmt.where(Quote.id == record.quote_id)
    else:
        return []
    quotes = session.execute(stmt.order_by(Quote.id.desc()).limit(MAX_ROWS)).unique().scalars().all()
    if not quotes:
        return []
    labels = dict(STATUS_CHOICES)
    rows = [ChainRow(label=f"{quote.display_number} {quote.title}",
                     url=url_for("web.record_detail", entity="quote", record_id=quote.id),
                     status_label=labels.get(services.effective_status(quote)), amount=quote.total,
                     currency=quote.currency,
                     note=quote.valid_until.isoformat() if quote.valid_until else "") for quote in quotes]
    return [ChainStage(position=POSITIONS["quotes"], key="quotes", label=_l("Quotes"), rows=rows)]
