"""DATAPUNK_HTTPS through the real front: HSTS and Secure cookies when TLS ends
at a proxy before the front, and no client can make a plain request count as
HTTPS. (The front here speaks plain HTTP; in production TLS ends at a proxy
listed in DATAPUNK_TRUSTED_PROXIES, which says so in X-Forwarded-Proto.)"""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "the right password, long enough"
A_YEAR = 365 * 24 * 3600


def _cookie_lines(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie line by its cookie's name."""
    lines = response.raw.headers.getlist("Set-Cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def _secure(line: str) -> bool:
    return "secure" in [part.strip().lower() for part in line.split(";")]


@pytest.fixture
def https_front(make_front, child_env):
    def make(trusted_proxies: list[str]):
        from django.conf import settings

        settings.DATAPUNK_TRUSTED_PROXIES = trusted_proxies
        child_env["DATAPUNK_HTTPS"] = "true"
        return make_front(pii_preload=False)

    return make


def test_behind_a_trusted_tls_proxy_pages_send_hsts_and_secure_cookies(
    https_front, make_user, settings
):
    front = https_front(["127.0.0.1"])  # the tests' client plays the TLS proxy
    make_user("carol", password=PASSWORD)
    proxied = {"X-Forwarded-Proto": "https"}
    form = requests.get(f"{front}/accounts/login/", headers=proxied, timeout=30)
    assert form.status_code == 200
    assert form.headers["Strict-Transport-Security"] == f"max-age={A_YEAR}"
    csrf_line = _cookie_lines(form)["csrftoken"]
    assert _secure(csrf_line)

    # Signing in: the session cookie is Secure too. (requests keeps Secure cookies
    # for https, so they are sent by hand, with the origin the TLS proxy serves.)
    csrf = re.match(r"csrftoken=([^;]+)", csrf_line).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    origin = front.replace("http://", "https://")
    signed_in = requests.post(
        f"{front}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "carol", "password": PASSWORD},
        headers={
            **proxied,
            "Cookie": f"csrftoken={csrf}",
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert _secure(_cookie_lines(signed_in)["sessionid"])
    assert signed_in.headers["Strict-Transport-Security"] == f"max-age={A_YEAR}"


def test_a_client_cannot_make_a_plain_request_count_as_https(https_front):
    front = https_front([])  # nobody before the front: what a client says is not believed
    answer = requests.get(
        f"{front}/accounts/login/", headers={"X-Forwarded-Proto": "https"}, timeout=30
    )
    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer.headers
    # The cookies are Secure all the same: DATAPUNK_HTTPS says the site is served over TLS.
    assert _secure(_cookie_lines(answer)["csrftoken"])
