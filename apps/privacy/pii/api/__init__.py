"""/api/privacy/: findings, the masking policy, masked events and audited reveals."""
