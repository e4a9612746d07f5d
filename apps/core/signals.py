"""What core tells the apps above it, which it must not import.

Sent synchronously, in the sender's transaction: a receiver's error fails the
sender, as a direct call would.
"""

from django.dispatch import Signal

# A user's time zone changed (apps/core/timezones.py): their days begin at other
# moments now, so day-based series are stale (apps/analytics refreshes them).
# kwargs user_id: int
time_zone_changed = Signal()
