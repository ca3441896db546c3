"""Settings, read from ``AWAAZ_*`` environment variables (and a ``.env`` file) through one cached getter.

Nothing here does work at import time: call :func:`get_settings` where settings are needed.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_cache_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_ID = "whisper-base-hi-soup"


def _default_model_dir() -> Path:
    return user_cache_path("awaaz") / "models"


class Settings(BaseSettings):
    """Every knob of the service. Each field is read from ``AWAAZ_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(
        env_prefix="AWAAZ_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    model_dir: Path = Field(
        default_factory=_default_model_dir,
        description="Cache directory where models are assembled and kept.",
    )
    default_model: str = Field(
        DEFAULT_MODEL_ID, description="Model id used when a request names none (or names whisper-1)."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("cpu", description="Inference device.")
    compute_type: str = Field(
        "int8", description="CTranslate2 compute type (int8, int8_float32, float32, float16, ...)."
    )
    cpu_threads: int = Field(
        0, ge=0, description="Threads per model replica on CPU (0: the CPU cores shared among the replicas)."
    )
    num_workers: int = Field(
        0,
        ge=0,
        description="Model replicas that run model calls in parallel (CTranslate2 workers; 0: one per CPU "
        "core on cpu, at most max_inflight; 1 on a GPU).",
    )
    max_sync_duration_s: float = Field(
        600.0, gt=0, description="Longest audio, in seconds, accepted by the synchronous endpoints."
    )
    max_upload_mb: float = Field(25.0, gt=0, description="Largest upload accepted, in megabytes (MiB).")
    beam_size: int = Field(5, ge=1, le=16, description="Beam size for decoding.")
    vad_filter: bool = Field(True, description="Skip silence with Silero VAD before decoding.")
    trim_windows: bool = Field(
        True,
        description="Whisper: encode each window cut to its audio plus 1 s (2 s steps), not padded to 30 s.",
    )
    lm: str = Field(
        "default",
        description="Whisper: n-gram language model that rescores the beam's n-best: 'default' (the shipped "
        "Hindi model), 'none' (off), or the path of a model built by `awaaz lm build`.",
    )
    lm_weight: float = Field(0.5, ge=0, description="Weight of the language model's ln-probability.")
    lm_word_bonus: float = Field(2.0, description="Score added per word when rescoring (offsets the LM).")
    lm_unknown_penalty: float = Field(
        20.0, ge=0, description="Score charged per word the language model does not know, when rescoring."
    )
    lm_lexicon_variants: int = Field(
        4,
        ge=0,
        le=16,
        description="Whisper with an LM: spelling variants from the LM's vocabulary added for each of the "
        "best hypotheses that holds unknown words (0: off).",
    )
    lm_lexicon_sources: int = Field(
        3, ge=1, le=16, description="How many of the beam's best hypotheses get lexicon variants."
    )
    lm_lexicon_unknown_cost: float = Field(
        4.0,
        ge=0,
        description="Charged by the lexicon search for keeping an unknown word that has known neighbours, so "
        "variants replace all they can (0: release 5's search).",
    )
    lm_lexicon_align: bool = Field(
        False,
        description="Score every candidate, lexicon variants included, by forced alignment: a little more "
        "accurate spelling for 2-3x the decoding time. Off: a variant keeps its source's beam score.",
    )
    lm_edit_cost: float = Field(
        6.0, ge=0, description="Charged per lexicon edit of a variant not scored by forced alignment."
    )
    model_ttl_s: float = Field(
        300.0,
        ge=-1,
        description="Seconds an idle model stays loaded before it is unloaded (-1: never). The default "
        "model never unloads.",
    )
    max_inflight: int = Field(
        4,
        ge=1,
        description="Transcriptions that may run at once; concurrent ones share batched model calls.",
    )
    max_queue: int = Field(
        16,
        ge=0,
        description="Transcriptions that may wait for a free slot; past this, requests get 429 and a "
        "Retry-After header.",
    )
    request_timeout_s: float = Field(
        300.0,
        gt=0,
        description="Longest a synchronous transcription may take, waiting included, before it fails (504).",
    )
    batch_max_size: int = Field(
        0,
        ge=0,
        description="Most model calls (encoder windows, decoder prompts) of concurrent requests run as one "
        "batch (1: no batching; 0: max_inflight shared among the replicas, rounded up).",
    )
    batch_wait_ms: float = Field(
        500.0,
        ge=0,
        description="Longest a model call waits for other running requests (still decoding audio or running "
        "VAD) to join its batch; it never waits once every running request is in a model call.",
    )
    longform_piece_s: float = Field(
        15.0,
        gt=0,
        le=30,
        description="Audio longer than longform_whole_s is cut in pauses into pieces of at most this many "
        "seconds, each decoded as a clip.",
    )
    longform_whole_s: float = Field(
        20.0, ge=0, le=30, description="Audio up to this many seconds is decoded whole, as one clip."
    )
    longform_min_piece_s: float = Field(
        3.0, gt=0, le=30, description="Long audio is cut no sooner than this many seconds into a piece."
    )
    longform_recover_gap_s: float = Field(
        1.0,
        gt=0,
        description="When a piece's text ends this long before the piece while speech goes on, the rest "
        "is decoded again.",
    )
    cue_max_s: float = Field(
        7.0, gt=0, description="Longest subtitle cue (and verbose_json segment), seconds."
    )
    cue_line_chars: int = Field(42, ge=10, description="Characters per subtitle line.")
    cue_lines: int = Field(2, ge=1, le=4, description="Lines per subtitle cue.")
    log_level: str = Field("info", description="Log level of the server (debug, info, warning, error).")

    def replicas(self) -> int:
        """Model replicas (``num_workers``, resolved): on CPU one per core by default, so that concurrent
        requests decode in parallel, each replica on its own core (on 2 cores 1.9-2.9x the throughput of one
        two-thread replica at 4 concurrent requests: docs/PERFORMANCE.md)."""
        if self.num_workers:
            return self.num_workers
        if self.device != "cpu":
            return 1
        return max(1, min(cpu_cores(), self.max_inflight))

    def threads_per_replica(self) -> int:
        """CPU threads of each replica (``cpu_threads``, resolved)."""
        return self.cpu_threads or max(1, cpu_cores() // self.replicas())

    def batch_size(self) -> int:
        """Most calls in one batch (``batch_max_size``, resolved): the in-flight requests per replica."""
        return self.batch_max_size or max(1, -(-self.max_inflight // self.replicas()))

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)


def cpu_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
