"""Delete-my-data revokes the user's grants at the providers before the rows go."""

from __future__ import annotations

import pytest

from apps.connectors.models import Connection
from apps.core.db.context import system_context
from apps.privacy.models import AuditEntry
from apps.privacy.tasks import run_user_data_delete
from tests.acting import count_of
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_deleting_my_data_revokes_each_token_at_its_provider(owner, outsider, twitch, google):
    mine_twitch = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    mine_google = make_connection(owner, "google", google)
    theirs = make_connection(outsider, "twitch", twitch, external_id="someone-else")
    twitch_access, google_refresh = mine_twitch.access_token, mine_google.refresh_token
    their_access = theirs.access_token

    run_user_data_delete(owner.pk, owner.pk)

    twitch_revokes = [r.form["token"] for r in twitch.log if r.path == "/oauth2/revoke"]
    assert twitch_revokes == [twitch_access]  # Twitch takes the access token
    assert twitch_access not in twitch.access and their_access in twitch.access
    assert [r.form["token"] for r in google.log if r.path == "/revoke"] == [google_refresh]
    assert google_refresh not in google.refresh
    with system_context():
        assert not count_of(owner, Connection) > 0
        assert Connection.objects.filter(pk=theirs.pk).exists()
        revoked = set(
            AuditEntry.objects.filter(user_id=owner.pk, action="connector.revoke").values_list(
                "target", flat=True
            )
        )
    assert revoked == {"connector:twitch", "connector:google"}

    run_user_data_delete(owner.pk, owner.pk)  # again: nothing left to revoke
    assert len([r for r in twitch.log if r.path == "/oauth2/revoke"]) == 1
