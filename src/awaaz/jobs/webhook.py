"""Tell a job's ``callback_url`` that the job ended: only to allowed hosts, signed, retried with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from awaaz.errors import InvalidParameterError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Awaaz-Signature"
ATTEMPTS = 4
BACKOFF_S = 2.0
"""Waits between attempts: 2, 4, 8 s."""
TIMEOUT_S = 10.0


def check_callback_url(url: str, allowed_hosts: frozenset[str]) -> str:
    """``url`` if webhooks may go there; :class:`InvalidParameterError` (422) with the fix otherwise."""
    if not allowed_hosts:
        raise InvalidParameterError(
            "Webhooks are off on this server: callback_url cannot be used. The operator can allow hosts "
            "with AWAAZ_WEBHOOK_ALLOWED_HOSTS.",
            param="callback_url",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(
            f"callback_url must be an http(s) URL with a host; got {url!r}.", param="callback_url"
        )
    if parts.hostname.lower() not in allowed_hosts:
        raise InvalidParameterError(
            f"callback_url's host {parts.hostname!r} is not allowed; allowed: "
            f"{', '.join(sorted(allowed_hosts))}.",
            param="callback_url",
        )
    return url


def signature(body: bytes, secret: str) -> str:
    """The value of the signature header: ``sha256=`` and the hex HMAC of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    url: str,
    payload: dict[str, Any],
    secret: str = "",
    *,
    attempts: int = ATTEMPTS,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST ``payload`` as JSON to ``url`` until it answers 2xx, at most ``attempts`` times; True on
    success."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "awaaz-webhook"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    for attempt in range(attempts):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                if 200 <= response.status < 300:
                    return True
        except (urllib.error.URLError, OSError) as exc:
            log.warning("webhook to %s, attempt %d: %s", url, attempt + 1, exc)
    log.error("webhook to %s failed %d times; giving up", url, attempts)
    return False


def deliver_in_background(url: str, payload: dict[str, Any], secret: str = "") -> threading.Thread:
    """:func:`deliver` in a daemon thread, so a slow receiver never holds a worker."""
    thread = threading.Thread(target=deliver, args=(url, payload, secret), name="awaaz-webhook", daemon=True)
    thread.start()
    return thread
