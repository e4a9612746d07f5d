"""Privacy API: findings, the masking policy, masked events and audited reveals. Thin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_errors import api_error
from apps.lake.models import Event
from apps.privacy.redaction import redact_event_payloads
from apps.privacy.selectors import event_payload_of, findings_of
from apps.privacy.services import (
    RevealError,
    pii_reveal,
    redaction_policy_of,
    redaction_policy_set,
)

from .serializers import (
    FindingFilterSerializer,
    FindingSerializer,
    MaskedEventSerializer,
    PolicySerializer,
    RevealRequestSerializer,
    RevealSerializer,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Event ids are bigint: a longer number in the URL names no event (and must not reach SQL).
MAX_EVENT_ID = 2**63 - 1


def _check_event_id(event_id: int) -> None:
    if not 0 < event_id <= MAX_EVENT_ID:
        raise NotFound("No such event.")


def _signed_in_user(request: Request) -> User:
    """The request's user; IsAuthenticated (the default permission) rules out AnonymousUser."""
    user = request.user
    assert not isinstance(user, AnonymousUser)
    return user


class FindingList(generics.ListAPIView):
    """Where PII was found in your events: GET /api/privacy/findings/?event=ID&risk=high."""

    serializer_class = FindingSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("event", int, description="only this event's findings"),
            OpenApiParameter("risk", str, enum=["high", "medium", "low"]),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = FindingFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return findings_of(
            user_id=_signed_in_user(self.request).pk,
            event_id=query.validated_data.get("event"),
            risk=query.validated_data.get("risk"),
        )


class PolicyView(APIView):
    """Your masking policy per risk class: show, mask, partial or hash."""

    @extend_schema(responses={200: PolicySerializer})
    def get(self, request: Request) -> Response:
        policy = redaction_policy_of(user_id=_signed_in_user(request).pk)
        return Response(PolicySerializer(policy).data)

    @extend_schema(request=PolicySerializer, responses={200: PolicySerializer})
    def put(self, request: Request) -> Response:
        body = PolicySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy = redaction_policy_set(user_id=_signed_in_user(request).pk, **body.validated_data)
        return Response(PolicySerializer(policy).data)


class MaskedEventView(APIView):
    """One of your events as every API shows it: PII masked per your policy."""

    @extend_schema(responses={200: MaskedEventSerializer})
    def get(self, request: Request, event_id: int) -> Response:
        user = _signed_in_user(request)
        _check_event_id(event_id)
        try:
            payload = event_payload_of(user_id=user.pk, event_id=event_id)
        except Event.DoesNotExist:
            raise NotFound("No such event.") from None
        [masked] = redact_event_payloads(user_id=user.pk, payloads=[payload])
        return Response(MaskedEventSerializer(masked).data)


class RevealView(APIView):
    """POST {"field": "title"}: the unmasked value of one field of your event; audited."""

    @extend_schema(request=RevealRequestSerializer, responses={200: RevealSerializer})
    def post(self, request: Request, event_id: int) -> Response:
        user = _signed_in_user(request)
        _check_event_id(event_id)
        body = RevealRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        field = body.validated_data["field"]
        try:
            value = pii_reveal(
                user_id=user.pk,
                actor_id=user.pk,
                event_id=event_id,
                field=field,
                ip=request.META.get("REMOTE_ADDR"),
            )
        except Event.DoesNotExist:
            raise NotFound("No such event.") from None
        except RevealError as exc:
            return api_error(str(exc))
        return Response(RevealSerializer({"id": event_id, "field": field, "value": value}).data)
