import pytest


@pytest.mark.django_db
def test_admin_login_page_renders(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b"Django administration" in response.content or b"Datapunk" in response.content


@pytest.mark.django_db
def test_browsable_api_needs_login_and_renders_for_a_user(client, owner):
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 403
    client.force_login(owner)
    response = client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Api Root" in response.content


@pytest.mark.django_db
def test_token_auth_works_for_the_api(client, owner):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=owner)
    response = client.get(
        "/api/", HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_openapi_schema_and_docs(client, owner):
    client.force_login(owner)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_for_signed_in_users(client):
    assert client.get("/api/schema/").status_code == 403
    assert client.get("/api/docs/").status_code == 403


@pytest.mark.django_db
def test_home_redirects_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_home_shows_an_empty_lake_with_the_way_in(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 200
    assert b"Import your Google Takeout" in response.content


@pytest.mark.django_db
def test_home_counts_only_the_users_own_data(client, owner, outsider, import_takeout):
    import_takeout(owner, points=40)
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "<strong>40</strong> location points" in page
    assert "youtube.watch" in page
    client.force_login(outsider)
    assert "Import your Google Takeout" in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_message_shows_on_whichever_page_comes_next(client, owner):
    # allauth says "signed in" and redirects to the dashboard, which must show it.
    response = client.post(
        "/accounts/login/",
        {"login": "owner", "password": "pw-for-tests-only"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b'<ul class="messages">' in response.content
    assert b"Successfully signed in as owner." in response.content
    # Shown once: the next page has none.
    assert b'<ul class="messages">' not in client.get("/timeline/").content
