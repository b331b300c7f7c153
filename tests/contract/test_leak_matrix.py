"""The leak matrix (SECURITY.md 1, issue #2 §11): every registered entity × every read surface × every role.

Built from the registries, so a plugin's entity joins automatically. The expected id sets come from an
oracle: the stock-role grants (the documented permission matrix, which is data) and the department tree,
evaluated in plain Python — never through the app's scope code.
"""
import csv
import io
import re

import pytest

from core.testing.factories import make_record

VIEWERS = ["rep_east", "rep_east_sub", "rep_west", "manager_east", "manager_west", "boss", "procurement",
           "service", "admin"]
OWNERS = ["rep_east", "rep_east_sub", "rep_west", "manager_east", "boss", None]
STOCK_ROLE = {"rep_east": "salesperson", "rep_east_sub": "salesperson", "rep_west": "salesperson",
              "manager_east": "sales_manager", "manager_west": "sales_manager", "boss": "boss",
              "procurement": "procurement", "service": "service", "admin": "admin"}
RANK = {"none": 0, "own": 1, "team": 2, "all": 3}


def documented_levels(gx):
    """role key -> {permission: level}, straight from the modules' declared stock-role grants."""
    levels = {}
    for contributions in gx.hook.register_roles():
        for stock in contributions or []:
            for permission, level in stock.grants.items():
                current = levels.setdefault(stock.key, {}).get(permission, "none")
                if RANK[level] > RANK[current]:
                    levels[stock.key][permission] = level
    return levels


def oracle(org, levels, viewer_login, spec, owner_login, action="view"):
    level = levels[STOCK_ROLE[viewer_login]].get(spec.permission(action), "none")
    if level == "all":
        return True
    if level == "none" or not spec.scoped or owner_login is None:
        return False
    viewer, owner = getattr(org, viewer_login), getattr(org, owner_login)
    if level == "own":
        return viewer.id == owner.id
    paths = {d.id: d.path for d in org.departments.values()}
    return owner.id == viewer.id or paths[owner.department_id].startswith(paths[viewer.department_id])


def _entities(gx):
    return sorted(spec.name for spec in gx.entities)


def pytest_generate_tests(metafunc):
    if "entity" in metafunc.fixturenames:
        from core.plugins import installed_entry_points
        names = ["customer", "contact", "followup", "product"] + sorted(
            ep_name for ep_name in installed_entry_points())
        metafunc.parametrize("entity", names)


@pytest.fixture
def spec(gx, entity):
    if entity not in {s.name for s in gx.entities}:
        plugin_specs = [s for s in gx.entities if s.module == entity]
        if not plugin_specs:
            pytest.skip(f"module {entity!r} registers no entity")
        return plugin_specs
    return [gx.entities[entity]]


def _ids_in_html(html, name):
    return {int(m) for m in re.findall(rf'href="/r/{name}/(\d+)(?:/[a-z]+)?"', html)}


def test_leak_matrix(app, gx, org, spec, client_as, api_as, system_session):
    levels = documented_levels(gx)
    for entity_spec in spec:
        _check_entity(app, gx, org, entity_spec, levels, client_as, api_as, system_session)


def _check_entity(app, gx, org, spec, levels, client_as, api_as, system_session):
    owners = OWNERS if spec.scoped else [None]
    records = {}
    for owner_login in owners:
        owner = getattr(org, owner_login) if owner_login else None
        record, mark = make_record(system_session, spec, owner, gx.entities)
        records[record.id] = (owner_login, mark)
    system_session.commit()
    name = spec.name
    failures = []
    for viewer in VIEWERS:
        expected = {rid for rid, (owner, _m) in records.items() if oracle(org, levels, viewer, spec, owner)}
        browser = client_as(getattr(org, viewer))
        api = api_as(getattr(org, viewer))

        page = browser.get(f"/r/{name}/?limit=200")
        listed = _ids_in_html(page.get_data(as_text=True), name) & set(records) if page.status_code == 200 else set()
        if page.status_code not in (200, 403, 404) or listed != expected:
            failures.append((viewer, "html list", page.status_code, sorted(listed), sorted(expected)))

        for rid in records:
            status = browser.get(f"/r/{name}/{rid}").status_code
            if (status == 200) != (rid in expected) or status not in (200, 403, 404):
                failures.append((viewer, "html detail", rid, status))
            api_status = api.get(f"/api/v1/{name}/{rid}").status_code
            if spec.api and ((api_status == 200) != (rid in expected) or api_status not in (200, 403, 404)):
                failures.append((viewer, "api detail", rid, api_status))

        if spec.api:
            response = api.get(f"/api/v1/{name}?limit=200")
            got = {item["id"] for item in response.get_json()["items"]} & set(records) \
                if response.status_code == 200 else set()
            if got != expected:
                failures.append((viewer, "api list", response.status_code, sorted(got), sorted(expected)))

        if spec.search_fields:
            for rid, (_owner, mark) in records.items():
                html = browser.get(f"/search?q={mark}").get_data(as_text=True)
                found = rid in _ids_in_html(html, name)
                if found and rid not in expected:
                    failures.append((viewer, "search leaks", rid))
                if not found and rid in expected:
                    failures.append((viewer, "search misses", rid))

        export = browser.get(f"/r/{name}/export.csv")
        exportable = {rid for rid, (owner, _m) in records.items()
                      if oracle(org, levels, viewer, spec, owner, "export") and rid in expected}
        text = export.get_data(as_text=True) if export.status_code == 200 else ""
        cells = {cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row}
        exported = {rid for rid, (_owner, mark) in records.items() if any(mark in c for c in cells)}
        if exported != exportable:
            failures.append((viewer, "export", export.status_code, sorted(exported), sorted(exportable)))

        xlsx = browser.get(f"/r/{name}/export.xlsx")
        cells = _xlsx_cells(xlsx.data) if xlsx.status_code == 200 else set()
        exported = {rid for rid, (_owner, mark) in records.items() if any(mark in c for c in cells)}
        if exported != exportable or xlsx.status_code not in (200, 403, 404):
            failures.append((viewer, "export xlsx", xlsx.status_code, sorted(exported), sorted(exportable)))
    assert not failures, f"{name}: {failures}"


def _xlsx_cells(data: bytes) -> set[str]:
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return {str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None}
