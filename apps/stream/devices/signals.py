"""What a device's store tells the apps above stream.

Sent synchronously inside the storing transaction, so what a receiver writes
commits or rolls back with the fixes (a geofence crossing is stored with the
fix that made it, apps/analytics/receivers.py); a receiver's error fails the store.
"""

from django.dispatch import Signal

# New location fixes of a device were written: kwargs user_id: int,
# earliest: datetime (the oldest new fix's recorded_at).
fixes_stored = Signal()
