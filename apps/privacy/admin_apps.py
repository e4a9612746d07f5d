from django.contrib.admin.apps import AdminConfig


class AuditedAdminConfig(AdminConfig):
    """django.contrib.admin with every change audited (apps/privacy/admin_site.py);
    INSTALLED_APPS names this instead of django.contrib.admin."""

    default_site = "apps.privacy.admin_site.AuditedAdminSite"
