"""Why a deal was won or lost: a fixed, translated list (required when an opportunity reaches such a stage)."""
from core.i18n import _l

WIN_REASONS = [
    ("win_price", _l("Won: better price")), ("win_product", _l("Won: product fits best")),
    ("win_relationship", _l("Won: relationship and trust")), ("win_service", _l("Won: service and support")),
    ("win_other", _l("Won: other reason")),
]
LOSS_REASONS = [
    ("loss_price", _l("Lost: price too high")), ("loss_competitor", _l("Lost: chose a competitor")),
    ("loss_budget", _l("Lost: no budget")), ("loss_no_decision", _l("Lost: no decision / project stopped")),
    ("loss_product", _l("Lost: product does not fit")), ("loss_timing", _l("Lost: bad timing")),
    ("loss_other", _l("Lost: other reason")),
]
CLOSE_REASONS = WIN_REASONS + LOSS_REASONS


def reasons_for(kind: str) -> list:
    """The reasons offered when moving to a stage of ``kind`` ("won"/"lost"; none for open stages)."""
    return {"won": WIN_REASONS, "lost": LOSS_REASONS}.get(kind, [])
