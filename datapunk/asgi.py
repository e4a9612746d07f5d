"""HTTP and websockets in one ASGI application, served by daphne."""

import gc
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.privacy.pii.preload import pii_preload_in_background  # noqa: E402
from apps.stream.asgi import stream_endpoints_in_front_of  # noqa: E402
from apps.stream.routing import websocket_urlpatterns  # noqa: E402
from apps.stream.send_buffer import send_buffer_bound_install  # noqa: E402

# What is loaded by now lives as long as the process: kept out of the cyclic
# collector's full collections, which walked all of it (0.4 s on a busy
# machine, the event loop stalled meanwhile). The PII preload freezes its model too.
gc.freeze()
pii_preload_in_background()
send_buffer_bound_install(settings.DATAPUNK_FEED_SEND_BUFFER_BYTES)

application = ProtocolTypeRouter(
    {
        # Phones' fixes and keyed ingest skip Django's request cycle (apps/stream/asgi.py says why).
        "http": stream_endpoints_in_front_of(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
