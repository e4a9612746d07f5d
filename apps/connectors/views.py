from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.connectors.models import Connection
from apps.connectors.selectors import connections_of, connector_cards
from apps.connectors.services import connection_disconnect
from apps.connectors.tasks import sync_connection
from apps.core.queueing import QueueUnavailable, queue_now


@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(request, "connectors/connections.html", {"cards": connector_cards(request.user)})


@login_required
@require_POST
def connection_sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_object_or_404(connections_of(request.user), pk=pk)
    if conn.status != Connection.Status.ACTIVE:
        messages.error(request, f"{conn} is not active: connect it again first.")
        return redirect("connections")
    try:
        queue_now(sync_connection, conn.user_id, conn.pk)
    except QueueUnavailable as exc:
        messages.error(request, f"Sync of {conn} not queued: {exc}; try again in a few minutes.")
        return redirect("connections")
    messages.info(request, f"Sync of {conn} queued.")
    return redirect("connections")


@login_required
@require_POST
def connection_disconnect_view(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_object_or_404(connections_of(request.user), pk=pk)
    conn = connection_disconnect(connection_id=conn.pk, actor_id=request.user.pk)
    if conn.last_error:
        messages.warning(request, conn.last_error)
    messages.info(request, f"{conn} disconnected; its tokens are deleted.")
    return redirect("connections")
