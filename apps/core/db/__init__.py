"""Who a database connection acts for: the acting-user context and the role switches.

The policies that these settings and roles are checked against live in
apps/privacy/rls.py; this package is what every layer uses to enter them.
"""
