"""One brute-force limit for every way to sign in, through the real front.

Per account (whichever page and whichever spelling of the name) and per
client address, where the address is the peer nginx saw: an X-Forwarded-For
sent by the client is not believed (scripts/front.conf.template).
"""

from __future__ import annotations

import re

import pytest
import requests

from apps.core.signin_limit import TOO_MANY_ATTEMPTS

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "the right password, long enough"
# Each sign-in page: its path and the name of its user field.
PAGES = {
    "allauth": ("/accounts/login/", "login"),
    "api": ("/api/auth/login/", "username"),
    "admin": ("/admin/login/", "username"),
}


def _sign_in(front: str, page: str, login: str, password: str, headers=None) -> requests.Response:
    path, field = PAGES[page]
    session = requests.Session()
    form = session.get(front + path, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return session.post(
        front + path,
        data={"csrfmiddlewaretoken": token, field: login, "password": password},
        headers=headers or {},
        allow_redirects=False,
        timeout=30,
    )


def _signed_in(response: requests.Response) -> bool:
    return response.status_code == 302 and "login" not in response.headers["Location"]


@pytest.fixture
def quick_front(make_front):
    return make_front(pii_preload=False)


@pytest.mark.parametrize("page", PAGES)
def test_each_sign_in_page_locks_the_account_after_five_failures(quick_front, make_user, page):
    make_user("alice", password=PASSWORD, is_staff=True, email="alice@example.org")
    refused = [_sign_in(quick_front, page, "alice", f"guess {n}") for n in range(5)]
    assert not any(_signed_in(response) for response in refused)
    assert all(TOO_MANY_ATTEMPTS not in response.text for response in refused)

    locked = _sign_in(quick_front, page, "alice", PASSWORD)
    assert not _signed_in(locked)
    assert locked.status_code == 200 and TOO_MANY_ATTEMPTS in locked.text


def test_failures_on_one_page_and_spelling_lock_the_account_on_the_others(quick_front, make_user):
    make_user("alice", password=PASSWORD, is_staff=True, email="alice@example.org")
    _sign_in(quick_front, "api", "alice", "guess 1")
    _sign_in(quick_front, "api", "ALICE", "guess 2")
    _sign_in(quick_front, "admin", "alice", "guess 3")
    _sign_in(quick_front, "allauth", "Alice@Example.org", "guess 4")
    _sign_in(quick_front, "allauth", "alice", "guess 5")
    for page in PAGES:
        assert not _signed_in(_sign_in(quick_front, page, "alice", PASSWORD)), page


def test_a_right_password_under_the_limit_signs_in_and_does_not_count(quick_front, make_user):
    make_user("alice", password=PASSWORD)
    # Six attempts, four of them failures: were successes counted, the last
    # one would be the sixth of five allowed.
    for round_ in range(2):
        for n in range(2):
            assert not _signed_in(_sign_in(quick_front, "api", "alice", f"guess {round_}-{n}"))
        assert _signed_in(_sign_in(quick_front, "api", "alice", PASSWORD)), round_


def test_one_address_guessing_many_accounts_is_stopped_whatever_it_forwards(quick_front, make_user):
    make_user("bob", password=PASSWORD)
    # Ten failures on ten names, each claiming another client address.
    for n in range(10):
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        _sign_in(quick_front, "api", f"nobody-{n}", "guess", headers=forged)
    # bob has no failures of his own, but this address has used its attempts up.
    locked = _sign_in(
        quick_front, "api", "bob", PASSWORD, headers={"X-Forwarded-For": "198.51.100.1"}
    )
    assert not _signed_in(locked)
    assert TOO_MANY_ATTEMPTS in locked.text


def _login_addresses(user) -> list[str]:
    from apps.privacy.models import AuditEntry
    from tests.acting import as_user

    with as_user(user):
        return [
            str(ip)
            for ip in AuditEntry.objects.filter(action="login", user_id=user.pk).values_list(
                "ip", flat=True
            )
        ]


def test_the_audit_log_records_the_peer_not_what_the_client_forwards(quick_front, make_user):
    bob = make_user("bob", password=PASSWORD)
    response = _sign_in(
        quick_front, "api", "bob", PASSWORD, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert _signed_in(response)
    assert _login_addresses(bob) == ["127.0.0.1"]


def test_a_configured_trusted_proxy_passes_the_client_address_on(settings, make_front, make_user):
    settings.DATAPUNK_TRUSTED_PROXIES = ["127.0.0.1"]  # the tests' client plays the proxy
    front = make_front(pii_preload=False)
    bob = make_user("bob", password=PASSWORD)
    response = _sign_in(front, "api", "bob", PASSWORD, headers={"X-Forwarded-For": "203.0.113.7"})
    assert _signed_in(response)
    assert _login_addresses(bob) == ["203.0.113.7"]
