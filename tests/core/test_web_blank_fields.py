"""A form submitted as a browser sends it — every input present, most of them empty — saves or shows field
errors; it never fails with a server error."""
import re


def _all_inputs(html):
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html))
    return {name: "" for name in names if name not in ("csrf_token",)}


def test_blank_optional_fields_save(app, org, client_as, csrf):
    client = client_as(org.rep_east)
    for entity in ("customer", "product", "contact", "followup"):
        form_page = client.get(f"/r/{entity}/new")
        if form_page.status_code != 200:
            continue
        data = _all_inputs(form_page.get_data(as_text=True))
        data["csrf_token"] = csrf(client, f"/r/{entity}/new")
        response = client.post(f"/r/{entity}/new", data=data)
        assert response.status_code in (302, 422), (entity, response.status_code)


def test_blank_required_name_is_reported_at_the_field(app, org, client_as, csrf):
    client = client_as(org.rep_east)
    data = _all_inputs(client.get("/r/customer/new").get_data(as_text=True))
    data.update(name="   ", email="not-an-email", csrf_token=csrf(client, "/r/customer/new"))
    response = client.post("/r/customer/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in html and "Not a valid e-mail address." in html
    assert 'value="not-an-email"' in html  # what was typed is kept

    data.update(name="华宏贸易", email="", website="", industry="")
    assert client.post("/r/customer/new", data=data).status_code == 302
