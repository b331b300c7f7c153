"""An entity list as an XLSX workbook (openpyxl write-only: constant memory, one sheet)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core import services
from core.web import display
from core.web.export import BATCH_SIZE, defuse_formula

SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")
MAX_CELL_TEXT = 32767  # Excel's limit per cell


def text_cell(sheet, text) -> WriteOnlyCell:
    """A string cell that a spreadsheet never evaluates (data type forced to "s", formula defused)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", defuse_formula(str(text)))[:MAX_CELL_TEXT]
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def value_cell(sheet, spec, name, value, lookups):
    """Numbers stay numbers, dates stay dates (local time), everything else is text as on the list page."""
    plain_number = isinstance(value, (int, Decimal, float)) and not isinstance(value, bool) and not (
        display.is_owner_field(spec, name) or display.reference_of(spec, name) or _is_custom(name))
    if plain_number:
        cell = WriteOnlyCell(sheet, value=value)
        return cell
    if _is_custom(name):  # custom fields: shown exactly as on the list page (option labels, names)
        return text_cell(sheet, display.cell(spec, name, value, lookups, links=False).text)
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value.astimezone(display.local_timezone()).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if value is None:
        return text_cell(sheet, "")
    return text_cell(sheet, display.cell(spec, name, value, lookups, links=False).text)


def _is_custom(name) -> bool:
    custom_display = getattr(display, "custom_display", None)
    return custom_display is not None and custom_display.is_custom_name(name)


def record_value(record, name):
    reader = getattr(display, "record_value", None)  # custom fields (``cf_...``) included
    return reader(record, name) if reader is not None else getattr(record, name, None)


def sheet_title(text) -> str:
    return SHEET_TITLE_UNSAFE.sub("_", str(text))[:31] or "Sheet1"


def write_xlsx(session, spec, stmt, sort, columns, target, progress=None, batch_size=BATCH_SIZE):
    """Write every row of ``stmt`` in keyset batches to ``target`` (a path or binary file object).

    ``columns``: the list's columns (custom fields ``cf_...`` included); ``progress(rows_done)`` is called
    after each batch.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(spec.label_plural))
    header = [display.label(spec, name) for name in columns]
    sheet.append([text_cell(sheet, text) for text in header])
    cursor, done = None, 0
    while True:
        batch = services.page(session, spec, stmt, sort=sort, cursor=cursor, limit=batch_size, count_cap=0)
        lookups = display.load_lookups(session, spec, batch.rows, columns)
        for record in batch.rows:
            sheet.append([value_cell(sheet, spec, name, record_value(record, name), lookups) for name in columns])
        done += len(batch.rows)
        if progress is not None:
            progress(done)
        if not batch.next_cursor:
            break
        cursor = batch.next_cursor
    workbook.save(target)
    return done
