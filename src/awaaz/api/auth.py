"""API keys and per-caller request limits, for HTTP and WebSocket alike (README "Access").

Clients send ``Authorization: Bearer KEY`` as OpenAI's do; a browser's WebSocket cannot set headers, so
the live endpoints also take ``?api_key=KEY``. Without a key, or with a wrong one: 401 in OpenAI's error
shape (a WebSocket handshake is refused the same way where the server supports denial responses, else
closed with 1008). Open to all: ``/health`` and the web page's static files, which hold no data and must
load to ask for a key. The caller (a key's id, or the client address when no keys are set) is put in the
request's state as ``caller`` for the rate limits the routes apply to audio.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from awaaz.access import ApiKeys, RateLimiter
from awaaz.api.errors import send_error
from awaaz.errors import RateLimitedError

PUBLIC = ("/health",)
UNCOUNTED = ("/health", "/ready", "/metrics")
"""Probes and scrapes: never rate limited (the page's files neither)."""


def _is_page_file(path: str) -> bool:
    return path == "/" or (path.startswith("/web/") and path != "/web/config")


def presented_key(scope: Scope) -> str | None:
    """The key a request carries: a Bearer token, or for a WebSocket the ``api_key`` query parameter."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    if scope["type"] == "websocket":
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        keys: list[str] = query.get("api_key", [])
        if keys:
            return keys[0]
    return None


class AccessMiddleware:
    """Authenticate (when keys are set) and count requests per caller (when a request limit is set)."""

    def __init__(self, app: ASGIApp, keys: ApiKeys, limiter: RateLimiter) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights carry no credentials
            return
        page_file = _is_page_file(path)
        if path in PUBLIC or page_file or not self.keys.enabled:
            client = scope.get("client")
            caller = f"address:{client[0]}" if client else "address:unknown"
        else:
            key = presented_key(scope)
            key_id = self.keys.identify(key)
            if key_id is None:
                await _deny(scope, receive, send, 401, *_unauthorized(key is not None))
                return
            caller = f"key:{key_id}"
        scope.setdefault("state", {})["caller"] = caller
        if path not in UNCOUNTED and not page_file:
            try:
                self.limiter.admit_request(caller)
            except RateLimitedError as exc:
                retry = str(max(1, round(exc.retry_after_s)))
                await _deny(
                    scope, receive, send, 429, exc.message, exc.code, [(b"retry-after", retry.encode())]
                )
                return
        await self.app(scope, receive, send)


def _unauthorized(had_key: bool) -> tuple[str, str]:
    if had_key:
        return (
            "Incorrect API key provided. Check the key, or ask the server's operator for one.",
            "invalid_api_key",
        )
    return (
        "This server needs an API key: send it as 'Authorization: Bearer KEY' (WebSocket clients that "
        "cannot set headers: add ?api_key=KEY to the address).",
        "missing_api_key",
    )


async def _deny(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    code: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    head = list(headers or [])
    if status == 401:
        head.append((b"www-authenticate", b'Bearer realm="awaaz"'))
    if scope["type"] == "http":
        await send_error(send, message, status, code, headers=head)
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send_error(send, message, status, code, headers=head, websocket=True)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": code})
