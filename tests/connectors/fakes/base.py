"""What every fake provider does: OAuth (authorize, token, refresh, revoke),
bearer checks, a request log, and scripted trouble (429 storms, 5xx bursts).

A provider's fake adds its data routes. Everything runs in a daemon thread of
the test process; ``url`` is the base the connector is pointed at.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"


@dataclass
class Request:
    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    status: int = 0
    json: Any = None  # a JSON body, parsed


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[["Request", re.Match], Reply]


class FakeProvider:
    authorize_path = "/authorize"
    token_path = "/token"
    revoke_path = "/revoke"
    # How the fake says a refresh token is bad (overridden per provider).
    invalid_grant = Reply(
        400, {"error": "invalid_grant", "error_description": "Refresh token revoked"}
    )
    rotate_refresh = True
    token_lifetime = 3600

    def __init__(self) -> None:
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.access: dict[str, float] = {}  # access token -> expires at (monotonic)
        self.refresh: set[str] = set()
        self.revoked = False
        self.trouble: deque[Reply] = deque()  # answered to data calls before anything else
        # (count, seconds): the provider's own limit; more answers 429.
        self.limit: tuple[int, float] | None = None
        self.codes: set[str] = set()
        self.routes: list[tuple[str, re.Pattern, Route]] = []
        # Where a public callback URL really leads (the person's reverse proxy
        # or tunnel): {"https://dp.example": "http://127.0.0.1:PORT"}.
        self.reach: dict[str, str] = {}
        self.route("GET", self.authorize_path, self._authorize)
        self.route("POST", self.token_path, self._token)
        self.route("POST", self.revoke_path, self._revoke)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- life ---------------------------------------------------------------
    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    # -- scripting ------------------------------------------------------------
    def issue_tokens(self, lifetime: float | None = None) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.access[access] = time.monotonic() + (lifetime or self.token_lifetime)
            self.refresh.add(refresh)
        return access, refresh

    def expire_all(self) -> None:
        with self.lock:
            for token in self.access:
                self.access[token] = 0

    def revoke_all(self) -> None:
        """The user removed the app at the provider: every token stops working."""
        with self.lock:
            self.revoked = True
            self.access.clear()
            self.refresh.clear()

    def fail_next(self, count: int, status: int, headers: dict[str, str] | None = None) -> None:
        for _ in range(count):
            self.trouble.append(Reply(status, {"error": {"status": status}}, headers or {}))

    def data_calls(self) -> list[Request]:
        auth = {self.authorize_path, self.token_path, self.revoke_path}
        return [r for r in self.log if r.path not in auth]

    # -- OAuth ----------------------------------------------------------------
    def _authorize(self, request: Request, match: re.Match) -> Reply:
        code = "code-" + secrets.token_urlsafe(12)
        self.codes.add(code)
        target = (
            request.query["redirect_uri"]
            + "?"
            + urlencode({"code": code, "state": request.query.get("state", "")})
        )
        return Reply(302, None, {"Location": target})

    def _client_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (CLIENT_ID, CLIENT_SECRET)
        return (request.form.get("client_id"), request.form.get("client_secret")) == (
            CLIENT_ID,
            CLIENT_SECRET,
        )

    def token_body(self, access: str, refresh: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }
        if refresh:
            body["refresh_token"] = refresh
        return body

    def _token(self, request: Request, match: re.Match) -> Reply:
        if not self._client_ok(request):
            return Reply(401, {"error": "invalid_client"})
        grant = request.form.get("grant_type")
        if grant == "authorization_code":
            if request.form.get("code") not in self.codes:
                return Reply(400, {"error": "invalid_grant"})
            self.codes.discard(request.form["code"])
            access, refresh = self.issue_tokens()
            return Reply(200, self.token_body(access, refresh))
        if grant == "refresh_token":
            old = request.form.get("refresh_token", "")
            with self.lock:
                if self.revoked or old not in self.refresh:
                    return self.invalid_grant
            access, refresh = self.issue_tokens()
            with self.lock:
                self.refresh.discard(refresh)
                if self.rotate_refresh:
                    self.refresh.discard(old)
                    self.refresh.add(refresh)
            return Reply(200, self.token_body(access, refresh if self.rotate_refresh else None))
        return Reply(400, {"error": "unsupported_grant_type"})

    def _revoke(self, request: Request, match: re.Match) -> Reply:
        token = request.form.get("token", "")
        with self.lock:
            self.refresh.discard(token)
            self.access.pop(token, None)
        return Reply(200, {})

    def bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.query.get("access_token")
        with self.lock:
            if token and self.access.get(token, 0) > time.monotonic():
                return token
        return None

    def reached(self, url: str) -> str:
        """``url`` as this machine reaches it (see ``reach``)."""
        for public, local in self.reach.items():
            if url.startswith(public):
                return local + url[len(public) :]
        return url

    # -- data helpers -----------------------------------------------------------
    def page_url(self, path: str, **query: Any) -> str:
        return f"{self.url}{path}?{urlencode(query)}"

    def unauthorized(self) -> Reply:
        return Reply(401, {"error": {"status": 401, "message": "The access token expired"}})

    # -- the server ---------------------------------------------------------------
    def _dispatch(self, request: Request) -> Reply:
        auth_paths = {self.authorize_path, self.token_path, self.revoke_path}
        if request.path not in auth_paths:
            with self.lock:
                if self.limit:
                    count, window = self.limit
                    recent = [
                        r
                        for r in self.log
                        if r.at > request.at - window and r.path not in auth_paths
                    ]
                    if len(recent) > count:
                        return Reply(
                            429, {"error": "rate limited"}, {"Retry-After": str(int(window))}
                        )
                if self.trouble:
                    return self.trouble.popleft()
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                if request.path not in auth_paths and self.bearer(request) is None:
                    return self.unauthorized()
                return handler(request, match)
        return Reply(404, {"error": "no such endpoint in the fake"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                is_json = "json" in (self.headers.get("Content-Type") or "")
                form = {} if is_json else {k: v[0] for k, v in parse_qs(raw).items()}
                request = Request(
                    at=time.monotonic(),
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    form=form,
                    json=json.loads(raw) if is_json and raw else None,
                )
                with fake.lock:
                    fake.log.append(request)
                try:
                    reply = fake._dispatch(request)
                except Exception as exc:  # a bug in the fake must show, not hang the test
                    reply = Reply(599, {"fake_error": repr(exc)})
                request.status = reply.status
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler
