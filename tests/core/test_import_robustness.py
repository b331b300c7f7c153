"""Broken, hostile and oversized files get a clear message at upload (422), never a 500, and nothing is
imported from them (SECURITY.md 22, 23)."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from core.imports import readers
from core.imports.models import ImportJob
from core.models import Customer
from tests.core.import_helpers import csv_bytes, full_import, load_job, upload, xlsx_bytes


def _error(response) -> str:
    match = re.search(r'id="import-file-error">([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else ""


def _refused(client, csrf, data, filename="x.csv"):
    response = upload(client, csrf, "customer", data, filename)
    assert response.status_code == 422, response.status_code
    return _error(response)


@pytest.fixture
def rep(org, client_as):
    return client_as(org.rep_east)


def test_bytes_in_no_known_encoding_are_refused(rep, csrf, system_session):
    data = "名称\r\n".encode("utf-8") + b"\xff\xfe\xfa\x80\x81\xff\r\n"
    assert "UTF-8" in _refused(rep, csrf, data)
    assert system_session.execute(select(func.count()).select_from(ImportJob)).scalar() == 0


def test_a_huge_cell_is_refused(rep, csrf):
    data = csv_bytes([["名称", "备注"], ["a", "x" * (10 * 1024 * 1024)]])
    message = _refused(rep, csrf, data)
    assert "Row 2" in message and "characters" in message or "cannot be read" in message


def test_a_cell_above_the_limit_is_refused_with_its_row(rep, csrf):
    data = csv_bytes([["名称"], ["ok"], ["y" * 40000]])
    assert _refused(rep, csrf, data) == "Row 3 has a cell longer than 32768 characters."


def test_empty_and_header_only_files(rep, csrf):
    assert _refused(rep, csrf, b"") == "The file is empty."
    assert _refused(rep, csrf, csv_bytes([["名称", "电话"]])) == "The file has a header but no data rows."


def test_old_xls_and_binary_files_are_refused(rep, csrf):
    assert ".xlsx" in _refused(rep, csrf, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls")
    assert "not a CSV" in _refused(rep, csrf, b"\x89PNG\r\n\x1a\n\x00\x00\x00", "x.csv")


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_xlsx_is_refused_before_extraction(rep, csrf):
    bomb = _zip([("xl/workbook.xml", "<workbook/>"), ("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))])
    assert len(bomb) < 200_000
    assert "zip bomb" in _refused(rep, csrf, bomb, "bomb.xlsx")


def test_zip_slip_and_symlink_entries_are_refused(rep, csrf):
    slip = _zip([("xl/workbook.xml", "<workbook/>"), ("../../evil.sh", "echo")])
    assert "unsafe path" in _refused(rep, csrf, slip, "slip.xlsx")
    absolute = _zip([("xl/workbook.xml", "<workbook/>"), ("/etc/cron.d/x", "x")])
    assert "unsafe path" in _refused(rep, csrf, absolute, "abs.xlsx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        link = zipfile.ZipInfo("xl/link")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    assert "unsafe path" in _refused(rep, csrf, buffer.getvalue(), "link.xlsx")


def test_too_many_zip_entries_and_non_workbook_zip(rep, csrf):
    many = _zip([("xl/workbook.xml", "<workbook/>")] + [(f"f{i}", "") for i in range(1001)])
    assert "too many parts" in _refused(rep, csrf, many, "many.xlsx")
    assert "not an Excel workbook" in _refused(rep, csrf, _zip([("a.txt", "hi")]), "a.xlsx")


def test_xml_entity_expansion_is_refused(rep, csrf):
    """A billion-laughs workbook: defusedxml (used by openpyxl) refuses the DTD."""
    good = xlsx_bytes([["名称"], ["a"]])
    source = zipfile.ZipFile(io.BytesIO(good))
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>')
    entries = [(i.filename, laughs if i.filename == "xl/workbook.xml" else source.read(i.filename))
               for i in source.infolist()]
    assert _refused(rep, csrf, _zip(entries), "laughs.xlsx") == "The XLSX file could not be read."


def test_row_limit(app, rep, csrf):
    previous, app.config["IMPORT_MAX_ROWS"] = app.config.get("IMPORT_MAX_ROWS", 1_000_000), 3
    try:
        assert _refused(rep, csrf, csv_bytes([["名称"]] + [[f"c{i}"] for i in range(5)])) == \
            "The file has more than 3 rows."
    finally:
        app.config["IMPORT_MAX_ROWS"] = previous


def test_ragged_rows_fail_alone_and_are_reported(org, rep, csrf, system_session):
    rows = [["名称", "城市"], ["好公司", "上海"], ["坏行", "北京", "多余", "更多"], ["短行"]]
    job_id = full_import(rep, csrf, "customer", csv_bytes(rows), {0: "name", 1: "city"})
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (2, 1)
    names = set(system_session.execute(select(Customer.name)).scalars())
    assert names == {"好公司", "短行"}
    report = rep.get(f"/import/customer/{job_id}/errors.csv").get_data(as_text=True)
    assert "坏行" in report and "4 cells, the header only 2" in report


def test_semicolon_csv_is_read(org, rep, csrf, system_session):
    data = "名称;城市\r\n分号公司;杭州\r\n".encode("utf-8")
    full_import(rep, csrf, "customer", data, {0: "name", 1: "city"})
    assert system_session.execute(select(Customer.city).where(Customer.name == "分号公司")).scalar() == "杭州"


def test_reader_limits_unit(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(csv_bytes([["a", "b"], ["1", "2"]], encoding="gbk"))
    info = readers.scan(path, readers.Limits())
    assert (info.file_format, info.header, info.total) == ("csv", ["a", "b"], 1)
