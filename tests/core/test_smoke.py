from core.testing import TEST_PASSWORD


def test_login_and_dashboard(app, org):
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    import re
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"login": "rep_east", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    dash = client.get("/")
    assert dash.status_code == 200
    assert "Zhang San" in dash.get_data(as_text=True)
