import pytest

from apps.privacy.pii import pii_scanner


@pytest.fixture(scope="session")
def scanner():
    """The process's scanner, loaded once (about a second)."""
    return pii_scanner()
