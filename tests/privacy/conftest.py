import pytest

from apps.privacy.pii.scanner import pii_scanner


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture(scope="session")
def scanner():
    """The process's scanner, loaded once (about a second)."""
    return pii_scanner()
