"""Nobody signs up to a personal data box unless its owner opens sign-up."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

FORM = {
    "username": "stranger",
    "email": "stranger@example.org",
    "password1": "a long enough password",
    "password2": "a long enough password",
}


def test_sign_up_is_closed_by_default(client):
    page = client.get("/accounts/signup/").content.decode()
    assert "Sign Up Closed" in page
    client.post("/accounts/signup/", FORM)
    assert not get_user_model().objects.filter(username="stranger").exists()


def test_the_owner_can_open_sign_up(client, settings):
    settings.SIGNUP_OPEN = True
    response = client.post("/accounts/signup/", FORM)
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="stranger").exists()
