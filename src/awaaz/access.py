"""Who may use the service and how much: API keys (kept only as hashes) and per-caller rate limits.

Nothing here knows HTTP: the API layer finds the caller's key and asks :class:`ApiKeys` who it is, then
asks :class:`RateLimiter` whether that caller may go on.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from awaaz.config import AccessSettings
from awaaz.errors import InvalidParameterError, RateLimitedError

HASH_PREFIX = "sha256:"
WINDOW_S = 60.0


def key_digest(key: str) -> str:
    """The hex SHA-256 of a key: what is kept of it, and what a keys file may hold instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random API key (32 bytes of randomness)."""
    return "awz_" + secrets.token_urlsafe(32)


class ApiKeys:
    """The accepted API keys, as SHA-256 digests; a presented key is hashed and compared in constant time.

    Each key's id is the first 12 hex digits of its digest: what logs, metrics and rate limits name.
    """

    def __init__(self, digests: Iterable[str]) -> None:
        self._digests = tuple(sorted(set(digests)))

    @classmethod
    def from_settings(cls, settings: AccessSettings) -> ApiKeys:
        """The keys of ``AWAAZ_API_KEYS`` and ``AWAAZ_API_KEYS_FILE``."""
        plain = [k.strip() for k in settings.api_keys.get_secret_value().split(",") if k.strip()]
        digests = [key_digest(k) for k in plain]
        if settings.api_keys_file is not None:
            digests += _read_keys_file(settings.api_keys_file)
        return cls(digests)

    @property
    def enabled(self) -> bool:
        """True when any key is configured (then every request needs one)."""
        return bool(self._digests)

    def identify(self, presented: str | None) -> str | None:
        """The id of the key ``presented`` matches, or None. Every stored digest is compared (in constant
        time), so the time taken says nothing about which digests exist or how much of one matched."""
        if not presented:
            return None
        digest = key_digest(presented).encode()
        found = None
        for known in self._digests:
            if hmac.compare_digest(digest, known.encode()):
                found = known
        return None if found is None else found[:12]


def _read_keys_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidParameterError(f"Cannot read the API keys file {path}: {exc}.") from exc
    digests = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(HASH_PREFIX):
            digest = line.removeprefix(HASH_PREFIX).lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise InvalidParameterError(
                    f"{path}, line {number}: '{HASH_PREFIX}' must be followed by 64 hex digits."
                )
            digests.append(digest)
        else:
            digests.append(key_digest(line))
    return digests


@dataclass
class _Usage:
    """What one caller spent in the last minute: (time, amount) pairs, oldest first."""

    requests: deque[float] = field(default_factory=deque)
    audio: deque[tuple[float, float]] = field(default_factory=deque)


class RateLimiter:
    """Requests and audio seconds per caller over a sliding minute (limits of 0 are off).

    A request is counted when it is admitted (:meth:`admit_request`); audio is checked before work starts
    (:meth:`check_audio`) and charged once its length is known (:meth:`charge_audio`), so one long file may
    go over the budget, and the caller then waits until the minute has passed.
    """

    def __init__(self, settings: AccessSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_requests = settings.rate_limit_requests
        self.max_audio_s = settings.rate_limit_audio_s
        self._clock = clock
        self._usage: dict[str, _Usage] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.max_requests or self.max_audio_s)

    def admit_request(self, caller: str) -> None:
        """Count one request, or raise :class:`RateLimitedError` with the seconds until one is allowed."""
        if not self.max_requests:
            return
        with self._lock:
            now = self._clock()
            usage = self._expire(caller, now)
            if len(usage.requests) >= self.max_requests:
                wait = usage.requests[0] + WINDOW_S - now
                raise RateLimitedError(
                    f"Rate limit reached: {self.max_requests} requests per minute for this API key. "
                    f"Retry in {math.ceil(wait)} s.",
                    retry_after_s=wait,
                )
            usage.requests.append(now)

    def check_audio(self, caller: str) -> None:
        """Raise :class:`RateLimitedError` while the caller's audio of the last minute is at its limit."""
        if not self.max_audio_s:
            return
        with self._lock:
            now = self._clock()
            usage = self._expire(caller, now)
            used = sum(seconds for _, seconds in usage.audio)
            if used < self.max_audio_s:
                return
            # Wait until enough of the minute's audio has expired to get back under the limit.
            wait = 0.0
            for at, seconds in usage.audio:
                used -= seconds
                wait = at + WINDOW_S - now
                if used < self.max_audio_s:
                    break
        raise RateLimitedError(
            f"Rate limit reached: {self.max_audio_s:g} s of audio per minute for this API key. "
            f"Retry in {math.ceil(wait)} s.",
            retry_after_s=wait,
        )

    def charge_audio(self, caller: str, seconds: float) -> None:
        """Add ``seconds`` of audio to the caller's minute."""
        if not self.max_audio_s or seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            self._expire(caller, now).audio.append((now, seconds))

    def _expire(self, caller: str, now: float) -> _Usage:
        usage = self._usage.setdefault(caller, _Usage())
        while usage.requests and usage.requests[0] <= now - WINDOW_S:
            usage.requests.popleft()
        while usage.audio and usage.audio[0][0] <= now - WINDOW_S:
            usage.audio.popleft()
        if len(self._usage) > 10_000:  # forget callers idle for a minute (bounded memory)
            for name in [n for n, u in self._usage.items() if not u.requests and not u.audio and n != caller]:
                del self._usage[name]
        return usage
