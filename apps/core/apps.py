from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Datapunk core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from apps.core.signin_limit import signin_attempt_refund

        def refund(sender, request=None, **kwargs) -> None:
            signin_attempt_refund(request)

        user_logged_in.connect(refund, dispatch_uid="core-signin-refund", weak=False)
