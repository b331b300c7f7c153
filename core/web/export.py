"""CSV export of a list: every page of the filtered, sorted rows, streamed in keyset batches.

Excel opens the file correctly thanks to the UTF-8 BOM. Formula injection (CSV injection) is defused:
every field is quoted and a text cell that Excel/LibreOffice would read as a formula gets a leading "'".
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from decimal import Decimal

from core import services
from core.web import display

BATCH_SIZE = 500
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # also the full-width forms
# Characters a spreadsheet skips before deciding a cell is a formula.
SKIPPED_LEADERS = frozenset(";")


def _skippable(char: str) -> bool:
    return char.isspace() or char in SKIPPED_LEADERS or unicodedata.category(char) in ("Cc", "Cf", "Zs")


def defuse_formula(text: str) -> str:
    """Prefix ``'`` when the first meaningful character would start a formula (SECURITY.md item 24)."""
    for char in text:
        if _skippable(char):
            continue
        return "'" + text if char in FORMULA_STARTS else text
    return text


def csv_value(spec, name, value, lookups) -> str:
    """The exported text of one cell: names for ids, labels for choices, local times, defused text."""
    if isinstance(value, bool) or value is None:
        return display.plain_value(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(display.local_timezone()).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)) and not (display.is_owner_field(spec, name)
                                                         or display.reference_of(spec, name)):
        return str(value)
    return defuse_formula(display.cell(spec, name, value, lookups, links=False).text)


def export_rows(session, spec, stmt, sort, columns, batch_size=BATCH_SIZE):
    """Yield CSV text: a BOM and header first, then one chunk per keyset batch (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([defuse_formula(display.label(spec, name)) for name in columns])
    yield "\ufeff" + _drain(buffer)
    cursor = None
    while True:
        # count_cap=0: the export never needs the count, only the rows of each batch
        batch = services.page(session, spec, stmt, sort=sort, cursor=cursor, limit=batch_size, count_cap=0)
        lookups = display.load_lookups(session, spec, batch.rows, columns)
        for record in batch.rows:
            writer.writerow([csv_value(spec, name, display.record_value(record, name), lookups) for name in columns])
        yield _drain(buffer)  # the identity map holds clean rows weakly: memory stays flat
        if not batch.next_cursor:
            break
        cursor = batch.next_cursor


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
