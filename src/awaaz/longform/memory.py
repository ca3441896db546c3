"""Hand memory that the process has freed back to the operating system, where the C library allows it.

A long transcription allocates and frees many buffers of varying size from several threads (audio
blocks, VAD batches, encoder windows of different lengths). glibc keeps freed memory in its per-thread
arenas, so the resident set creeps up with the duration although nothing is held (docs/PERFORMANCE.md,
"Long recordings"). ``malloc_trim(0)`` after each piece returns it; it costs well under a millisecond.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    return library if hasattr(library, "malloc_trim") else None


def release_free_memory() -> bool:
    """Ask glibc to return freed heap memory to the OS; False where there is no ``malloc_trim``."""
    library = _libc()
    if library is None:
        return False
    library.malloc_trim(0)
    return True
