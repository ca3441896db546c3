"""The C allocator of a long-running process: give freed memory back, and keep few malloc arenas.

glibc gives each thread that contends for the heap an arena of its own, up to 8 per core, and keeps freed
memory in them. With the server's threads (request pool, model replicas, VAD, jobs) decoding audio of
every size:

- a long transcription's resident set crept up with its duration although nothing was held;
  ``malloc_trim(0)`` after each piece returns it, for well under a millisecond (docs/PERFORMANCE.md,
  "Long recordings");
- across requests, memory freed in one arena was not reused by another: 2,000 mixed requests took the
  server from 323 to 414 MiB (+28 %) while no Python object was left behind (tracemalloc: +141 KB). With
  two arenas it stayed flat, 256 to 254 MiB, at the same throughput within 5 % (docs/RELIABILITY.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

M_ARENA_MAX = -8
"""mallopt's parameter number for the arena limit (glibc's malloc.h)."""


@lru_cache(maxsize=1)
def _glibc() -> Any:
    """The C library when it is glibc (it has ``malloc_trim`` and ``mallopt``), else None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    return library if hasattr(library, "malloc_trim") and hasattr(library, "mallopt") else None


def release_free_memory() -> bool:
    """Ask glibc to return freed heap memory to the OS; False where there is no ``malloc_trim``."""
    library = _glibc()
    if library is None:
        return False
    library.malloc_trim(0)
    return True


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` (0: leave glibc's default); call it before the process
    starts its threads. False where the C library is not glibc (musl, macOS: nothing to cap)."""
    library = _glibc()
    if arenas <= 0 or library is None:
        return False
    library.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    library.mallopt.restype = ctypes.c_int
    done = bool(library.mallopt(M_ARENA_MAX, arenas))
    if not done:
        log.warning("could not limit malloc arenas to %d", arenas)
    return done
