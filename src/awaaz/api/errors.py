"""The one place where domain errors become HTTP responses, in OpenAI's error shape."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from awaaz.errors import AwaazError, ErrorKind, OverloadedError

log = logging.getLogger(__name__)

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.BAD_INPUT: 400,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.BAD_PARAMETER: 422,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.OVERLOADED: 429,
    ErrorKind.NOT_READY: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.INTERNAL: 500,
}


def error_body(message: str, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    if status == 429:
        kind = "rate_limit_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


async def send_error(
    send: Send,
    message: str,
    status: int,
    code: str,
    param: str | None = None,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    websocket: bool = False,
) -> None:
    """An error in OpenAI's shape sent straight through ASGI, for middleware that answers before the app
    (``websocket``: as the denial of a WebSocket handshake). The connection is closed after it."""
    body = json.dumps(error_body(message, status, code, param)).encode()
    prefix = "websocket.http.response" if websocket else "http.response"
    head = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *headers,
    ]
    await send({"type": f"{prefix}.start", "status": status, "headers": head})
    await send({"type": f"{prefix}.body", "body": body})


def error_response(
    message: str, status: int, code: str, param: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON error response in OpenAI's shape."""
    return JSONResponse(error_body(message, status, code, param), status_code=status, headers=headers)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AwaazError)
    status = STATUS_BY_KIND[exc.kind]
    headers = None
    if isinstance(exc, OverloadedError):
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))}
    elif status == 503:
        headers = {"Retry-After": "5"}
    if status >= 500:
        log.error("request failed: %s", exc.message)
    return error_response(exc.message, status, exc.code, exc.param, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    param = None
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        param = param or (loc[0] if loc else None)
        problems.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
    return error_response("Invalid request. " + "; ".join(problems), 422, "invalid_parameter", param)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(str(exc.detail), exc.status_code, code, headers=exc.headers)


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response("Internal server error. The failure was logged.", 500, "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping of every error to a status code and OpenAI-shaped body."""
    app.add_exception_handler(AwaazError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
