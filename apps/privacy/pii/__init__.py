"""PII: finding it (scanner, text_shapes), storing findings (models), the policy page
(views) and the /api/privacy/ findings, policy and reveal endpoints (api/).

Kept light on purpose: importing ``apps.privacy.pii.models`` must not load presidio
or spaCy (``scanner`` does, once per process, through ``pii_scanner()``).
"""
