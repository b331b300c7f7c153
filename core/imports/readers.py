"""Reading an uploaded CSV or XLSX file into rows of text, within limits (SECURITY.md items 22, 23).

* Format from the content, never the name: a ZIP holding ``xl/workbook.xml`` is XLSX; old binary ``.xls``
  and other binaries are refused; anything else must be text.
* CSV encoding: a UTF-8 BOM -> ``utf-8-sig``; valid UTF-8 -> ``utf-8``; else GB18030 (a superset of GBK,
  what Chinese Excel writes); bytes valid in none of them are refused.
* XLSX: before openpyxl opens it, the ZIP directory is checked (entry count, total uncompressed size,
  compression ratio, no absolute/parent/symlink entries); openpyxl then parses XML through defusedxml.
* Limits: rows, columns and characters per cell. ``scan()`` reads the whole file once at upload time, so
  a broken or oversized file is refused before anything is written.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from core.i18n import _l

CHUNK = 1 << 16
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Limits:
    max_rows: int = 1_000_000
    max_columns: int = 200
    max_cell: int = 32 * 1024  # characters
    max_entries: int = 1000  # ZIP entries of an XLSX
    max_uncompressed: int = 512 * 1024 * 1024  # bytes, all entries together
    max_ratio: int = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
    ratio_floor: int = 1024 * 1024

    @classmethod
    def from_config(cls, config) -> "Limits":
        base = cls()
        return cls(max_rows=int(config.get("IMPORT_MAX_ROWS", base.max_rows)),
                   max_cell=int(config.get("IMPORT_MAX_CELL", base.max_cell)))


class ImportFileError(Exception):
    """The file cannot be imported at all; ``message`` says why in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class FileInfo:
    file_format: str  # csv | xlsx
    encoding: str | None
    header: list[str]
    total: int  # data rows (without the header)


def sniff_format(path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise ImportFileError(_l("The file is empty."))
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        raise ImportFileError(_l("Old Excel files (.xls) cannot be read: save the file as .xlsx or CSV."))
    if b"\x00" in head:  # binary, or UTF-16 text: neither is a CSV we can read
        raise ImportFileError(_l("This is not a CSV (UTF-8 or GBK) or XLSX file."))
    return "csv"


def detect_encoding(path) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` (valid throughout) or ``gb18030``; ImportFileError otherwise."""
    with open(path, "rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            candidates = ["utf-8-sig"]
        else:
            candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError(_l("The file is not valid UTF-8 or GBK/GB18030 text: save it as CSV UTF-8."))


def _decodes(path, encoding) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def check_zip(path, limits: Limits):
    """Refuse archives that would explode or write outside their folder, before anything extracts them."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_l("The XLSX file is damaged.")) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise ImportFileError(_l("The XLSX file has too many parts."))
        total = 0
        for info in entries:
            if _unsafe_name(info):
                raise ImportFileError(_l("The XLSX file contains an unsafe path."))
            total += info.file_size
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise ImportFileError(_l("The XLSX file is compressed suspiciously well (zip bomb?)."))
        if total > limits.max_uncompressed:
            raise ImportFileError(_l("The XLSX file is too large once unpacked."))
        if "xl/workbook.xml" not in {info.filename for info in entries}:
            raise ImportFileError(_l("This ZIP file is not an Excel workbook (.xlsx)."))


def _unsafe_name(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    is_symlink = (info.external_attr >> 16) & 0o170000 == 0o120000
    parts = name.split("/")
    return (is_symlink or name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")
            or "\x00" in name)


def iter_rows(path, file_format, encoding, limits: Limits):
    """Rows as lists of stripped strings, header first. Raises ImportFileError on a broken file."""
    rows = _csv_rows(path, encoding) if file_format == "csv" else _xlsx_rows(path)
    line = 0
    for row in rows:
        line += 1
        if line > limits.max_rows + 1:
            raise ImportFileError(_l("The file has more than %(n)d rows.", n=limits.max_rows))
        if len(row) > limits.max_columns and any(row[limits.max_columns:]):
            raise ImportFileError(_l("Row %(row)d has more than %(n)d columns.", row=line, n=limits.max_columns))
        for value in row:
            if len(value) > limits.max_cell:
                raise ImportFileError(_l("Row %(row)d has a cell longer than %(n)d characters.",
                                         row=line, n=limits.max_cell))
        yield row


def _csv_rows(path, encoding):
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        if encoding == "utf-8-sig":
            sample = sample.lstrip("\ufeff")
        reader = csv.reader(fh, dialect=_dialect(sample))
        try:
            for row in reader:
                yield [cell.strip() for cell in row]
        except csv.Error as exc:  # e.g. "field larger than field limit": a giant cell
            raise ImportFileError(_l("Row %(row)d cannot be read: %(why)s", row=reader.line_num,
                                     why=str(exc))) from None


class _Excel(csv.excel):
    """Excel's CSV rules (quotes doubled inside quoted cells) with the delimiter found in the header."""


def _dialect(sample: str):
    # Only the delimiter is taken from the sniffer: on a header without quotes it also guesses
    # doublequote=False, which would break every quoted cell containing "".
    first_line = sample.splitlines()[0] if sample else ""
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return type("FileDialect", (_Excel,), {"delimiter": delimiter})


def _xlsx_rows(path):
    import openpyxl  # parses its XML with defusedxml when that is installed (it is a requirement)

    # A file object, not the path: stored uploads have no ".xlsx" name for openpyxl to check.
    with open(path, "rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of errors on malformed files
            raise ImportFileError(_l("The XLSX file could not be read.")) from None
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield [_xlsx_text(v) for v in values]
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(_l("The XLSX file could not be read.")) from None
        finally:
            workbook.close()


def _xlsx_text(value) -> str:
    """Cell values as the text a user sees: 13800138000 not 13800138000.0, dates without 00:00:00."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def scan(path, limits: Limits) -> FileInfo:
    """Check the whole file once: format, encoding, header and row count, every limit."""
    file_format = sniff_format(path)
    encoding = None
    if file_format == "xlsx":
        check_zip(path, limits)
    else:
        encoding = detect_encoding(path)
    rows = iter_rows(path, file_format, encoding, limits)
    header = None
    total = 0
    for row in rows:
        if header is None:
            if not any(row):
                continue  # leading blank lines
            header = row
            continue
        if any(row):
            total += 1
    if header is None:
        raise ImportFileError(_l("The file is empty."))
    if total == 0:
        raise ImportFileError(_l("The file has a header but no data rows."))
    header = [h or str(_l("Column %(n)d", n=i + 1)) for i, h in enumerate(header)]
    return FileInfo(file_format=file_format, encoding=encoding, header=header, total=total)


def data_rows(path, file_format, encoding, limits: Limits):
    """``(line number, cells)`` of the data rows (blank rows skipped); the header row is consumed."""
    seen_header = False
    for line, row in enumerate(iter_rows(path, file_format, encoding, limits), start=1):
        if not any(row):
            continue
        if not seen_header:
            seen_header = True
            continue
        yield line, row
