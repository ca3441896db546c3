"""Settings, read from ``AWAAZ_*`` environment variables (and a ``.env`` file) through one cached getter.

Each group of settings is a frozen pydantic-settings model, defined here once and handed as it is to the
code that uses it (the engines, the language model, the long-form cutter...): there is no second copy of
a default anywhere. :class:`Settings` nests the groups (``settings.lm.rescoring.weight``); every
documented ``AWAAZ_*`` variable keeps its flat name (``AWAAZ_LM_WEIGHT``).

Nothing here does work at import time: call :func:`get_settings` where settings are needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_path, user_data_path
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_ID = "whisper-base-hi-fast"
LONGFORM_MODEL_ID = "whisper-base-hi-soup"


def _config(prefix: str = "AWAAZ_") -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        validate_by_name=True,
    )


def _default_model_dir() -> Path:
    return user_cache_path("awaaz") / "models"


class ServerSettings(BaseSettings):
    """The HTTP server."""

    model_config = _config()

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    log_level: str = Field("info", description="Log level of the server (debug, info, warning, error).")
    log_format: Literal["json", "text"] = Field(
        "json", description="Log records as one JSON object per line, or as plain text."
    )
    malloc_arenas: int = Field(
        2,
        ge=0,
        description="glibc malloc arenas for awaaz serve and awaaz worker (0: glibc's default of 8 per core, "
        "under which memory creeps up request after request).",
    )
    web_ui: bool = Field(True, description="Serve the web page at / (false: the API alone).")
    header_timeout_s: float = Field(
        10.0, gt=0, description="A connection must send each request's headers within this many seconds."
    )
    body_idle_timeout_s: float = Field(
        30.0, gt=0, description="Longest pause between the chunks of a request body before a 408."
    )
    body_grace_s: float = Field(
        20.0, ge=0, description="Seconds of an upload before its average rate is checked."
    )
    min_upload_kbps: float = Field(
        4.0, ge=0, description="Slowest average upload, in KiB/s, accepted after the grace period."
    )
    keep_alive_s: int = Field(5, ge=1, description="Seconds an idle keep-alive connection stays open.")
    max_connections: int = Field(
        256, ge=1, description="Connections served at once; past this, requests get 503."
    )


class ModelSettings(BaseSettings):
    """Where models live, which one is the default (and which reads long recordings for it), and how long
    idle ones stay loaded."""

    model_config = _config()

    model_dir: Path = Field(
        default_factory=_default_model_dir,
        description="Cache directory where models are assembled and kept.",
    )
    default_model: str = Field(
        DEFAULT_MODEL_ID, description="Model id used when a request names none (or names whisper-1)."
    )
    longform_model: str = Field(
        LONGFORM_MODEL_ID,
        description="Model that decodes recordings longer than AWAAZ_LONGFORM_WHOLE_S when a request names "
        "the default model (or none), loaded on the first such recording; clips and live streams stay on the "
        "default model. The default's Hindi vocabulary reads on where one voice gives way to another, and "
        "loses words on long news; this model stops there (docs/ACCURACY.md). Empty: the default model "
        "decodes long recordings too.",
    )
    model_ttl_s: float = Field(
        300.0,
        ge=-1,
        description="Seconds an idle model stays loaded before it is unloaded (-1: never). The default "
        "model never unloads.",
    )


class RuntimeSettings(BaseSettings):
    """Where and how model calls run."""

    model_config = _config()

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
        description="Model replicas that run model calls in parallel (CTranslate2 workers; 0: chosen by "
        "cpu_layout on cpu, at most max_inflight; 1 on a GPU).",
    )
    cpu_layout: Literal["measure", "per-core"] = Field(
        "measure",
        description="How replicas x threads are chosen on cpu when num_workers and cpu_threads are 0: "
        "'measure' times each layout that uses every core once per machine and model (a few seconds at "
        "the first start, then cached beside the models); 'per-core' is one single-thread replica per core.",
    )


class LimitSettings(BaseSettings):
    """What one request may ask, and how much work the service takes at once."""

    model_config = _config()

    max_sync_duration_s: float = Field(
        600.0, gt=0, description="Longest audio, in seconds, accepted by the synchronous endpoints."
    )
    max_upload_mb: float = Field(25.0, gt=0, description="Largest upload accepted, in megabytes (MiB).")
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

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)


class BatchSettings(BaseSettings):
    """Batched model calls across concurrent requests (:mod:`awaaz.engines.batched`)."""

    model_config = _config("AWAAZ_BATCH_")

    max_size: int = Field(
        0,
        ge=0,
        description="Most model calls (encoder windows, decoder prompts) of concurrent requests run as one "
        "batch (1: no batching; 0: max_inflight shared among the replicas, rounded up).",
    )
    wait_ms: float = Field(
        500.0,
        ge=0,
        description="Longest a model call waits for other running requests (still decoding audio or running "
        "VAD) to join its batch; it never waits once every running request is in a model call.",
    )


class DecodingSettings(BaseSettings):
    """How every engine decodes."""

    model_config = _config()

    beam_size: int = Field(5, ge=1, le=16, description="Beam size for decoding.")
    vad_filter: bool = Field(True, description="Skip silence with Silero VAD before decoding.")
    trim_windows: bool = Field(
        True,
        description="Whisper: encode each window cut to its audio plus 1 s (2 s steps), not padded to 30 s.",
    )


class RescoringSettings(BaseSettings):
    """How much the language model counts when it reranks the beam's n-best (chosen on train-split dev
    clips, see docs/ACCURACY.md; :mod:`awaaz.lm.hypotheses` has the formula)."""

    model_config = _config("AWAAZ_LM_")

    weight: float = Field(0.5, ge=0, description="Weight of the language model's ln-probability.")
    word_bonus: float = Field(2.0, description="Score added per word when rescoring (offsets the LM).")
    n_best: int = Field(5, ge=1, description="Hypotheses asked of each beam search and rescored.")
    edit_cost: float = Field(
        6.0, ge=0, description="Charged per lexicon edit of a variant not scored by forced alignment."
    )
    unknown_penalty: float = Field(
        20.0, ge=0, description="Score charged per word the language model does not know, when rescoring."
    )


class LexiconSettings(BaseSettings):
    """Spelling variants, from the LM's vocabulary, of hypotheses with unknown words (:mod:`awaaz.lm.lexicon`;
    chosen on dev clips)."""

    model_config = _config("AWAAZ_LM_LEXICON_")

    variants: int = Field(
        4,
        ge=0,
        le=16,
        description="Whisper with an LM: spelling variants from the LM's vocabulary added for each of the "
        "best hypotheses that holds unknown words (0: off).",
    )
    sources: int = Field(
        3, ge=1, le=16, description="How many of the beam's best hypotheses get lexicon variants."
    )
    align: bool = Field(
        False,
        description="Score every candidate, lexicon variants included, by forced alignment: a little more "
        "accurate spelling for 2-3x the decoding time. Off: a variant keeps its source's beam score.",
    )
    unknown_cost: float = Field(
        4.0,
        ge=0,
        description="Charged by the lexicon search for keeping an unknown word that has known neighbours, so "
        "variants replace all they can (0: release 5's search).",
    )
    max_distance: int = Field(
        2,
        ge=0,
        description="Most edits between an unknown word and a replacement (1 for words of <= 3 letters).",
    )
    distance_cost: float = Field(
        2.0, ge=0, description="ln-probability charged per edit while ranking variants."
    )
    neighbours: int = Field(30, ge=1, description="Most replacements considered per unknown word.")
    beam: int = Field(10, ge=1, description="Partial sentences kept by the variant search.")

    @property
    def enabled(self) -> bool:
        """True when variants are made at all."""
        return self.variants > 0 and self.sources > 0


class LmSettings(BaseSettings):
    """The n-gram language model that rescores Whisper's n-best."""

    model_config = _config("AWAAZ_LM_")

    model: str = Field(
        "default",
        validation_alias="AWAAZ_LM",
        description="Whisper: n-gram language model that rescores the beam's n-best: 'default' (the shipped "
        "Hindi model), 'none' (off), or the path of a model built by `awaaz lm build`.",
    )
    rescoring: RescoringSettings = Field(default_factory=RescoringSettings)
    lexicon: LexiconSettings = Field(default_factory=LexiconSettings)


class PieceSettings(BaseSettings):
    """How long audio is cut into pieces (:mod:`awaaz.longform.pieces`)."""

    model_config = _config("AWAAZ_LONGFORM_")

    piece_s: float = Field(
        15.0,
        gt=0,
        le=30,
        description="Audio longer than longform_whole_s is cut in pauses into pieces of at most this many "
        "seconds (padding included), each decoded as a clip.",
    )
    whole_s: float = Field(
        20.0,
        ge=0,
        le=30,
        description="Audio up to this many seconds is decoded whole, as one clip (the model was trained on "
        "clips of up to 22 s).",
    )
    min_piece_s: float = Field(
        3.0, gt=0, le=30, description="Long audio is cut no sooner than this many seconds into a piece."
    )
    pad_s: float = Field(
        0.2, ge=0, description="Audio kept before the first and after the last speech of a piece."
    )
    block_s: float = Field(
        60.0, gt=0, description="Audio the VAD looks at in one go; bounds memory, with one carried piece."
    )
    sentence_pause_s: float = Field(
        0.8,
        ge=0,
        description="A pause at least this long, min_piece_s or more into a piece, ends it there (a "
        "sentence's end; 0: pieces are cut at their quietest point only).",
    )
    cut_at_joins: bool = Field(
        True,
        description="Without a sentence pause, a piece ends where two voices or recordings meet with no "
        "pause, if the join detector finds one in its window (awaaz.longform.joins), else at its quietest "
        "point.",
    )
    join_threshold: float = Field(
        0.9, ge=0, le=1, description="Score (0-1) at which the join detector reports a join."
    )
    join_detector: Path | None = Field(
        None,
        description="Weights of a join detector to use instead of the shipped one (written by "
        "python -m awaaz.train.joins).",
    )
    pause_level: float = Field(
        0.25,
        ge=0,
        le=1,
        description="A piece's quietest point whose speech probability, averaged, is under this is a "
        "pause and is cut in; above it, a join of two voices is cut at if one is found.",
    )
    quiet_level: float = Field(
        0.1,
        ge=0,
        le=1,
        description="A quietest point under this is cut in whatever joins there are; between it and "
        "pause_level (a lull, which read speech also has between sentences) only a join scoring at least "
        "sure_join_threshold is cut at instead. At pause_level: lulls are always cut in.",
    )
    sure_join_threshold: float = Field(
        0.999,
        ge=0,
        le=1,
        description="Score (0-1) a join needs to be cut at rather than a lull (see quiet_level).",
    )
    cut_smooth_s: float = Field(
        0.22,
        gt=0,
        le=2,
        description="Seconds the speech probability is averaged over to find a piece's quietest point "
        "(shorter: a brief gap where two voices meet with no pause is found; 0.29 before session 19).",
    )


class CueSettings(BaseSettings):
    """Subtitle limits (the common broadcast rule: 2 lines of 42 characters, about 7 s)."""

    model_config = _config("AWAAZ_CUE_")

    max_s: float = Field(7.0, gt=0, description="Longest subtitle cue (and verbose_json segment), seconds.")
    line_chars: int = Field(42, ge=10, description="Characters per subtitle line.")
    lines: int = Field(2, ge=1, le=4, description="Lines per subtitle cue.")

    @property
    def max_chars(self) -> int:
        """Characters in a full cue, the line break counted as a space."""
        return self.line_chars * self.lines


class LongFormSettings(BaseSettings):
    """How audio of any length is cut, decoded, checked for lost words and split into cues
    (:mod:`awaaz.longform.transcribe`)."""

    model_config = _config("AWAAZ_LONGFORM_")

    pieces: PieceSettings = Field(default_factory=PieceSettings)
    cues: CueSettings = Field(default_factory=CueSettings)
    recover_gap_s: float = Field(
        1.0,
        gt=0,
        description="When a piece's text ends this long before the piece while speech goes on, the rest "
        "is decoded again.",
    )
    recover_min_speech_s: float = Field(
        0.5, ge=0, description="... when the VAD finds at least this much speech in the rest."
    )
    max_recoveries: int = Field(8, ge=0, description="Most re-decodes of one piece.")
    min_words_per_s: float = Field(
        1.4,
        ge=0,
        description="A piece whose text has fewer words per second of speech (about a third of normal "
        "speech) lost some, and is halved.",
    )
    max_splits: int = Field(2, ge=0, description="How many times a piece that lost words may be halved.")
    min_checked_speech_s: float = Field(
        3.0,
        ge=0,
        description="Pieces with less speech than this are too short for a words-per-second check.",
    )
    coverage_pause_s: float = Field(
        0.2,
        ge=0,
        description="A piece is also decoded stretch by stretch, cut at its pauses of at least this many "
        "seconds, and a stretch its text skipped is put back (about twice the decoding; 0: off).",
    )
    coverage_min_s: float = Field(
        1.5, gt=0, description="Shortest stretch of that check (shorter ones join a neighbour)."
    )


class NemoSettings(BaseSettings):
    """How the NeMo CTC ONNX engine cuts audio."""

    model_config = _config("AWAAZ_NEMO_")

    chunk_s: float = Field(
        20.0,
        gt=0,
        description="Longest stretch of audio decoded at once (attention cost grows with its square).",
    )
    merge_gap_s: float = Field(
        1.0, ge=0, description="Speech regions closer than this are decoded together, across short pauses."
    )


class StreamSettings(BaseSettings):
    """Live transcription over WebSocket (:mod:`awaaz.streaming`)."""

    model_config = _config()

    max_streams: int = Field(
        4, ge=1, description="Live streams served at once; past this, a new one is refused (close code 1013)."
    )
    stream_idle_timeout_s: float = Field(
        15.0, gt=0, description="A stream whose client sends nothing for this long is closed."
    )
    stream_max_session_s: float = Field(
        4 * 3600.0, gt=0, description="Longest live stream, in seconds of audio."
    )
    stream_max_frame_kb: float = Field(256.0, gt=0, description="Largest audio frame a client may send, KiB.")
    stream_end_silence_s: float = Field(
        0.6, gt=0, description="Silence that ends an utterance (its final is then decoded)."
    )
    stream_max_utterance_s: float = Field(
        15.0, gt=1, le=30, description="An utterance with no pause is closed after this long."
    )
    stream_final_beam_size: int = Field(
        4,
        ge=1,
        le=16,
        description="Beam of a live final (files use AWAAZ_BEAM_SIZE): 4 reads the dev clips as well as 5 "
        "and decodes a long utterance about 20 % sooner.",
    )
    stream_partial_every_s: float = Field(
        0.6, gt=0, description="While someone speaks, a partial guess is decoded this often (greedy, no LM)."
    )


def _default_data_dir() -> Path:
    return user_data_path("awaaz")


class JobSettings(BaseSettings):
    """Asynchronous jobs for long recordings (:mod:`awaaz.jobs`)."""

    model_config = _config()

    queue: Literal["embedded", "celery"] = Field(
        "embedded",
        description="Who runs jobs: 'embedded' (threads of the API process, state in SQLite under data_dir) "
        "or 'celery' (`awaaz worker` processes over Redis at redis_url).",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where job audio (and, embedded, the job database) is kept; with celery, a directory "
        "the API and every worker see (a shared volume or network file system).",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis for queue=celery: the broker and the job state."
    )
    max_job_duration_s: float = Field(4 * 3600.0, gt=0, description="Longest audio a job accepts, seconds.")
    max_job_upload_mb: float = Field(500.0, gt=0, description="Largest job upload, in megabytes (MiB).")
    job_retention_h: float = Field(
        72.0, gt=0, description="Finished jobs and their audio are deleted this many hours after they end."
    )
    job_workers: int = Field(
        1,
        ge=1,
        description="Embedded: jobs run at once, each holding one of max_inflight's slots (the others stay "
        "free for synchronous requests). Celery: each `awaaz worker`'s default --concurrency.",
    )
    job_lease_s: float = Field(
        60.0,
        gt=0,
        description="A running job's worker renews its claim this often (at most) or loses it: a job whose "
        "worker died is taken up again by another after this long.",
    )
    webhook_allowed_hosts: str = Field(
        "",
        description="Comma-separated hosts a job's callback_url may name (empty: webhooks off).",
    )
    webhook_secret: str = Field(
        "", description="When set, webhooks carry X-Awaaz-Signature: sha256=HMAC of the body with it."
    )

    @property
    def max_job_upload_bytes(self) -> int:
        """The job upload limit in bytes."""
        return int(self.max_job_upload_mb * 1024 * 1024)

    @property
    def allowed_webhook_hosts(self) -> frozenset[str]:
        """The hosts of ``webhook_allowed_hosts``, lower case."""
        return frozenset(h.strip().lower() for h in self.webhook_allowed_hosts.split(",") if h.strip())


class AccessSettings(BaseSettings):
    """Who may use the API, how much, and from which web origins (README "Access")."""

    model_config = _config()

    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated API keys; when any key is set (here or in the keys file), every "
        "endpoint but /health and the page's static files needs one (Authorization: Bearer).",
    )
    api_keys_file: Path | None = Field(
        None,
        description="A file of API keys, one per line: the key itself, or 'sha256:' and its hex digest "
        "(awaaz keys new prints both); # starts a comment.",
    )
    rate_limit_requests: int = Field(
        0, ge=0, description="Requests per minute per API key (per client address without keys); 0: none."
    )
    rate_limit_audio_s: float = Field(
        0.0, ge=0, description="Seconds of audio per minute per API key (or client address); 0: no limit."
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call the API from a browser ('*': any); empty: none.",
    )
    docs: bool = Field(
        True, description="Serve the interactive API documentation at /docs and /openapi.json."
    )


class Settings(BaseModel):
    """Every knob of the service, in groups; each group reads its ``AWAAZ_*`` variables when it is made."""

    model_config = ConfigDict(frozen=True)

    server: ServerSettings = Field(default_factory=ServerSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    batching: BatchSettings = Field(default_factory=BatchSettings)
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    lm: LmSettings = Field(default_factory=LmSettings)
    longform: LongFormSettings = Field(default_factory=LongFormSettings)
    nemo: NemoSettings = Field(default_factory=NemoSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    streams: StreamSettings = Field(default_factory=StreamSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings with some values given by their flat names, the ``AWAAZ_*`` variables without the
        prefix in lower case (``vad_filter``, ``lm_weight``, ``longform_piece_s``); the rest are read from
        the environment. Raises ``TypeError`` for a name that is no setting."""
        paths = dict(_flat_fields(cls, ()))
        unknown = sorted(set(values) - set(paths))
        if unknown:
            raise TypeError(f"no such setting: {', '.join(unknown)}")
        tree: dict[str, Any] = {}
        for flat, value in values.items():
            *groups, name = paths[flat]
            node = tree
            for group in groups:
                node = node.setdefault(group, {})
            node[name] = value
        return cls(**{name: _build(_group_of(cls, name), sub) for name, sub in tree.items()})

    def with_lm(self, model: str) -> Settings:
        """These settings with another language model (``default``, ``none`` or a path), as ``AWAAZ_LM``."""
        return self.model_copy(update={"lm": self.lm.model_copy(update={"model": model})})

    def replicas(self) -> int:
        """Model replicas (``num_workers``, resolved) by rule: on CPU one per core, so that concurrent
        requests decode in parallel, each replica on its own core (on 2 cores 1.9-2.9x the throughput of one
        two-thread replica at 4 concurrent requests: docs/PERFORMANCE.md). Where :meth:`measures_layout`,
        the engine factory times the layouts instead (:mod:`awaaz.engines.layout`)."""
        if self.runtime.num_workers:
            return self.runtime.num_workers
        if self.runtime.device != "cpu":
            return 1
        return max(1, min(cpu_cores(), self.limits.max_inflight))

    def threads_per_replica(self) -> int:
        """CPU threads of each replica (``cpu_threads``, resolved)."""
        return self.runtime.cpu_threads or max(1, cpu_cores() // self.replicas())

    def batch_size(self, replicas: int | None = None) -> int:
        """Most calls in one batch (``batch_max_size``, resolved): the in-flight requests per replica
        (``replicas``: the engine's, where measured; default: :meth:`replicas`)."""
        per = replicas or self.replicas()
        return self.batching.max_size or max(1, -(-self.limits.max_inflight // per))

    def measures_layout(self) -> bool:
        """True when the CPU layout is to be measured rather than derived (``cpu_layout``, no override)."""
        runtime = self.runtime
        return (
            runtime.device == "cpu"
            and runtime.cpu_layout == "measure"
            and not runtime.num_workers
            and not runtime.cpu_threads
        )


ENV_GROUPS: tuple[type[BaseSettings], ...] = (
    ServerSettings,
    ModelSettings,
    RuntimeSettings,
    LimitSettings,
    BatchSettings,
    DecodingSettings,
    LmSettings,
    RescoringSettings,
    LexiconSettings,
    PieceSettings,
    CueSettings,
    LongFormSettings,
    NemoSettings,
    JobSettings,
    StreamSettings,
    AccessSettings,
)
"""Every settings group, for documentation and its tests."""


def env_names(group: type[BaseSettings]) -> dict[str, str]:
    """The ``AWAAZ_*`` variable of each plain field of ``group`` (nested groups are left out)."""
    prefix = str(group.model_config.get("env_prefix", ""))
    names = {}
    for name, info in group.model_fields.items():
        if isinstance(info.default_factory, type) and issubclass(info.default_factory, BaseSettings):
            continue
        alias = info.validation_alias
        names[name] = alias if isinstance(alias, str) else (prefix + name).upper()
    return names


def _group_of(owner: type[BaseModel], name: str) -> type[BaseSettings]:
    factory = owner.model_fields[name].default_factory
    assert isinstance(factory, type)
    assert issubclass(factory, BaseSettings)
    return factory


def _flat_fields(owner: type[BaseModel], path: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each plain setting under ``owner`` as (flat name, attribute path)."""
    for name, info in owner.model_fields.items():
        factory = info.default_factory
        if isinstance(factory, type) and issubclass(factory, BaseSettings):
            yield from _flat_fields(factory, (*path, name))
        elif issubclass(owner, BaseSettings):
            yield env_names(owner)[name].removeprefix("AWAAZ_").lower(), (*path, name)


def _build(group: type[BaseSettings], values: dict[str, Any]) -> BaseSettings:
    kwargs: dict[str, Any] = {
        name: _build(_group_of(group, name), value) if isinstance(value, dict) else value
        for name, value in values.items()
    }
    return group(**kwargs)


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
