from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "apps.connectors"
    label = "connectors"

    def ready(self) -> None:
        from allauth.socialaccount.signals import pre_social_login
        from django.db.models.signals import post_migrate

        from apps.connectors.allauth_bridge import adapt_allauth, on_pre_social_login
        from apps.connectors.receivers import (
            connections_revoke_for_deletion,
            push_subscription_event_queue,
        )
        from apps.connectors.schedules import schedules_install_after_migrate
        from apps.connectors.services import SYNC_OPERATION, replay_sync
        from apps.core.feed import register_message_types
        from apps.privacy.deletion import user_data_deleting
        from apps.stream.deadletters import replay_handler_register
        from apps.stream.signals import push_subscription_event

        # A connection needs consent again, a sync finished.
        register_message_types("connector.status")
        adapt_allauth()
        pre_social_login.connect(on_pre_social_login, dispatch_uid="connectors-consent")
        post_migrate.connect(schedules_install_after_migrate, sender=self)
        replay_handler_register(SYNC_OPERATION, replay_sync)
        user_data_deleting.connect(
            connections_revoke_for_deletion, dispatch_uid="connectors-revoke-on-delete"
        )
        push_subscription_event.connect(
            push_subscription_event_queue, dispatch_uid="connectors-push-event"
        )
