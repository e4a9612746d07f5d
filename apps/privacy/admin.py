# Models of this app arrive with its issue; they register here.

# PII detection and masking registers its own models.
from apps.privacy import pii_admin  # noqa: E402,F401
