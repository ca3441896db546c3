"""Whisper on CTranslate2 through faster-whisper: the default engine."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faster_whisper import WhisperModel
from faster_whisper.transcribe import Segment as FwSegment

from awaaz.audio import Audio, duration_s
from awaaz.config import DecodingSettings, LmSettings
from awaaz.engines.base import Placement
from awaaz.engines.batched import BatchingWhisper
from awaaz.engines.rescoring import LMRescorer
from awaaz.errors import InvalidParameterError, ModelLoadError
from awaaz.lm.hypotheses import Hypothesis
from awaaz.lm.shipped import resolve_lm
from awaaz.text.loops import collapse_loops
from awaaz.types import Segment, TranscribeOptions, Transcription, TranscriptionInfo, Word
from awaaz.whisper.devanagari import non_devanagari_token_ids, punctuation_token_ids
from awaaz.whisper.scope import VocabularyScope
from awaaz.whisper.tokens import EOT, language_token
from awaaz.whisper.windows import WindowTrimmer

log = logging.getLogger(__name__)

TEMPERATURE_FALLBACK = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
MAX_LENGTH = 448
"""Whisper's decoder positions per 30 s window, prompt included."""
WINDOW_S = 30.0
MAX_PROMPT_TOKENS = MAX_LENGTH // 2 - 1
"""The most prompt tokens faster-whisper keeps before a window (it silently drops the rest)."""
MIN_NEW_TOKENS = 16
"""Added to every duration bound: room for timestamps and the end token of very short clips."""
NEW_TOKENS_BUCKET = 32
"""Duration bounds are rounded up to a multiple of this."""
DEFAULT_HINDI_PROMPT = "यह हिंदी में बोला गया एक वाक्य है।"
"""A neutral Hindi sentence ("this is a sentence spoken in Hindi"), taken from no data set."""


@dataclass(frozen=True, slots=True)
class WhisperGuards:
    """What keeps the Whisper engine's Hindi output clean: its own defaults, not service settings.

    The defaults (script guard, steering prompt, one decode per window bounded by the audio's length,
    repetition penalty 1.1, loop collapser) were chosen on train clips: see docs/ACCURACY.md, "Devanagari and
    loop guards (base model)"; :mod:`awaaz.evaluation.guards` measures the alternatives.
    """

    force_devanagari: bool = True
    """For language ``hi``, suppress every token that would write a letter of another script."""
    suppress_punctuation: bool = False
    """For language ``hi``, also suppress tokens of punctuation and symbols not in ``kept_punctuation``."""
    kept_punctuation: str = "?,"
    """Punctuation the punctuation guard lets through. The danda is always kept: it is spelled with byte
    pieces that also spell Devanagari letters."""
    hindi_prompt: str | None = DEFAULT_HINDI_PROMPT
    """For language ``hi`` when the request gives no prompt: Devanagari text put before every 30 s window as
    if it had been said just before (faster-whisper's ``hotwords``), which steers the script and style."""
    compression_ratio_threshold: float = 2.4
    """Fall back to a higher temperature when a window's text compresses better than this (a loop)."""
    temperature_fallback: bool = False
    """Retry a failed window at temperatures 0.2 .. 1.0; when False, decode once at the asked temperature."""
    no_repeat_ngram_size: int = 0
    """Forbid any token n-gram of this size from occurring twice (0: off)."""
    repetition_penalty: float = 1.1
    """Penalty on the scores of tokens already generated (1.0: off)."""
    max_tokens_per_second: float | None = 30.0
    """Bound each window's new tokens by the audio's duration (seconds, at most 30) times this (None: 448)."""
    collapse_loops: bool = True
    """Rewrite each segment's text with :func:`awaaz.text.loops.collapse_loops` (word timings are kept)."""


class WhisperCT2Engine:
    """faster-whisper over a CTranslate2 Whisper model directory."""

    def __init__(
        self,
        model_id: str,
        path: Path,
        *,
        placement: Placement | None = None,
        decoding: DecodingSettings | None = None,
        lm: LmSettings | None = None,
        guards: WhisperGuards | None = None,
    ) -> None:
        """Load the CTranslate2 Whisper model in ``path`` and build its stack of model wrappers once.

        ``lm`` (None: no language model) names the n-gram model that rescores the beam's n-best
        (``lm.model``: ``default``, ``none`` or a path) and how. From the model outwards the stack is: the
        cross-request batcher (when ``placement.batch_size`` > 1), the LM rescorer, the window trimmer.
        """
        self.model_id = model_id
        self.path = path
        self.placement = placement or Placement()
        self.decoding = decoding or DecodingSettings()
        self.guards = guards or WhisperGuards()
        self.lm_path = resolve_lm(lm.model) if lm is not None else None
        self.scope = VocabularyScope.read(path)
        """Set for a model whose vocabulary was pruned to one language (:mod:`awaaz.modeltools.prune`)."""
        try:
            self._model = WhisperModel(
                str(path),
                device=self.placement.device,
                compute_type=self.placement.compute_type,
                cpu_threads=self.placement.cpu_threads,
                num_workers=self.placement.replicas,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelLoadError(
                f"Could not load Whisper model {model_id!r} from {path}: {exc}. Check that the directory "
                "holds a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json) and that the "
                "compute type suits the device."
            ) from exc
        raw = self._model.model
        # Innermost, under the rescorer and the trimmer: windows are trimmed first, so a batch holds windows
        # of one length, and a batched generate call returns every request's own n-best.
        self.batcher: BatchingWhisper | None = None
        if self.placement.batch_size > 1:
            self.batcher = BatchingWhisper(
                raw, max_batch_size=self.placement.batch_size, max_wait_s=self.placement.batch_wait_s
            )
            self._model.model = self.batcher
        self.rescorer: LMRescorer | None = None
        if lm is not None and self.lm_path is not None:
            self.rescorer = self._install_rescorer(raw, self.lm_path, lm)
        if self.decoding.trim_windows:
            self._model.model = WindowTrimmer(self._model.model)
        self._hindi_suppress = self._build_hindi_suppression()
        prompt = self.guards.hindi_prompt
        self._steering_tokens = len(self._model.hf_tokenizer.encode(" " + prompt).ids) + 1 if prompt else 0

    def _install_rescorer(self, raw: Any, lm_path: Path, settings: LmSettings) -> LMRescorer:
        """Put the rescorer around the model; lexicon variants are scored on ``raw``, the unbatched model."""
        from awaaz.engines.expansion import CandidateExpander
        from awaaz.lm.lexicon import LexiconCorrector
        from awaaz.lm.ngram import LanguageModelError, NgramLM

        try:
            lm = NgramLM.load(lm_path)
        except LanguageModelError as exc:
            raise ModelLoadError(f"Model {self.model_id!r}: {exc} (or set AWAAZ_LM=none).") from exc
        tokenizer = self._model.hf_tokenizer
        eot = tokenizer.token_to_id(EOT)

        def decode(ids: Sequence[int]) -> str:
            return str(tokenizer.decode([i for i in ids if i < eot]))

        expander = None
        if settings.lexicon.enabled:
            expander = CandidateExpander(raw, LexiconCorrector(lm, settings.lexicon), tokenizer)
        hindi = tokenizer.token_to_id(
            language_token("hi")
        )  # the LM is Hindi: other languages' windows pass through
        rescorer = LMRescorer(
            self._model.model, lm, decode, settings.rescoring, expander, language_token=hindi
        )
        self._model.model = rescorer
        log.info(
            "%s: n-best rescoring with %s (%s n-grams), lexicon variants %s",
            self.model_id,
            lm_path,
            lm.counts(),
            "on" if expander else "off",
        )
        return rescorer

    def _build_hindi_suppression(self) -> list[int]:
        tokenizer = self._model.hf_tokenizer
        eot = tokenizer.token_to_id(EOT)
        vocabulary = [tokenizer.id_to_token(i) or "" for i in range(eot)]
        ids: set[int] = set()
        if self.guards.force_devanagari:
            ids.update(non_devanagari_token_ids(vocabulary, eot))
            log.info("Devanagari guard: %d of %d text tokens suppressed for language hi", len(ids), eot)
        if self.guards.suppress_punctuation:
            ids.update(punctuation_token_ids(vocabulary, eot, frozenset(self.guards.kept_punctuation)))
        return sorted(ids)

    @property
    def suppressed_for_hindi(self) -> int:
        """How many vocabulary tokens are suppressed for language hi (script and punctuation guards)."""
        return len(self._hindi_suppress)

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        """Start a transcription; segments are decoded as the returned iterator is consumed."""
        kwargs = self.decode_kwargs(options, duration_s(audio))
        fw_segments, fw_info = self._model.transcribe(audio, **kwargs)
        info = TranscriptionInfo(
            language=fw_info.language,
            duration=float(fw_info.duration),
            language_probability=float(fw_info.language_probability),
            model=self.model_id,
        )
        return Transcription(info=info, segments=_convert(fw_segments, self.guards.collapse_loops))

    def _steering_prompt(self, options: TranscribeOptions) -> str | None:
        """The Hindi prompt for every window, unless the caller brought a prompt of their own."""
        if options.prompt or options.language != "hi":
            return None
        return self.guards.hindi_prompt or None

    def _max_new_tokens(self, options: TranscribeOptions, duration: float) -> int | None:
        """The per-window token bound that follows from the audio's duration, or None for the model's own."""
        rate = self.guards.max_tokens_per_second
        if rate is None:
            return None
        bound = math.ceil(rate * min(duration, WINDOW_S)) + MIN_NEW_TOKENS
        # Rounded up to a bucket so that concurrent requests of similar length can share a batched call.
        bound = -(-bound // NEW_TOKENS_BUCKET) * NEW_TOKENS_BUCKET
        # The decoder's prompt shares the 448 positions: the task tokens, the steering prompt, and a caller's
        # prompt of up to half of them; past that cap, leave the bound to faster-whisper.
        cap = MAX_LENGTH - 8 - self._steering_tokens - (MAX_LENGTH // 2 if options.prompt else 0)
        return bound if bound < cap else None

    def check(self, options: TranscribeOptions) -> None:
        """A pruned model writes its own language only, and does not translate."""
        self._checked_scope(options)

    def _checked_scope(self, options: TranscribeOptions) -> str | None:
        """The language to decode in; a pruned model can write its own language only, and not translate."""
        if self.scope is None:
            return options.language or None
        own = self.scope.language
        if options.task != "transcribe":
            raise InvalidParameterError(
                f"Model {self.model_id!r} has a {own!r}-only vocabulary and cannot translate; use a full "
                "Whisper model such as 'whisper-base' for task=translate.",
                param="task",
            )
        if options.language and options.language != own:
            raise InvalidParameterError(
                f"Model {self.model_id!r} has a {own!r}-only vocabulary; got language {options.language!r}. "
                f"Send language={own!r} (or none), or use a full Whisper model such as 'whisper-base'.",
                param="language",
            )
        return own

    def decode_kwargs(self, options: TranscribeOptions, duration: float) -> dict[str, Any]:
        """The faster-whisper ``transcribe`` arguments for ``options`` and audio of ``duration`` seconds
        (the benchmark gives the same ones to other servers)."""
        if not 0.0 <= options.temperature <= 1.0:
            raise InvalidParameterError("temperature must be between 0 and 1.", param="temperature")
        if options.prompt:
            tokens = len(self._model.hf_tokenizer.encode(" " + options.prompt.strip()).ids)
            if tokens > MAX_PROMPT_TOKENS:
                raise InvalidParameterError(
                    f"The prompt is {tokens} tokens; at most {MAX_PROMPT_TOKENS} fit before a 30 s window "
                    "(Whisper keeps only the last ones). Shorten it to the names and spellings that matter.",
                    param="prompt",
                )
        language = self._checked_scope(options)
        if language is not None and language not in self._model.supported_languages:
            raise InvalidParameterError(
                f"Language {language!r} is not supported by model {self.model_id!r}. "
                "Use an ISO-639-1 code such as 'hi'.",
                param="language",
            )
        temperatures = tuple(t for t in TEMPERATURE_FALLBACK if t >= options.temperature) or (
            options.temperature,
        )
        if not self.guards.temperature_fallback:
            temperatures = (options.temperature,)
        suppress: list[int] = [-1]
        if language == "hi":
            suppress += self._hindi_suppress
        vad = self.decoding.vad_filter if options.vad_filter is None else options.vad_filter
        return {
            "language": language,
            "task": options.task,
            "beam_size": options.beam_size or self.decoding.beam_size,
            "temperature": temperatures,
            "initial_prompt": options.prompt or None,
            "hotwords": self._steering_prompt(options),
            "word_timestamps": options.word_timestamps,
            "vad_filter": vad,
            "suppress_tokens": suppress,
            "condition_on_previous_text": False,
            "compression_ratio_threshold": self.guards.compression_ratio_threshold,
            "no_repeat_ngram_size": self.guards.no_repeat_ngram_size,
            "repetition_penalty": self.guards.repetition_penalty,
            "max_new_tokens": self._max_new_tokens(options, duration),
        }

    def close(self) -> None:
        """Drop the model so CTranslate2 frees its memory."""
        model = getattr(self, "_model", None)
        if model is not None:
            model.model.unload_model()

    def participant(self) -> AbstractContextManager[None]:
        """Count one transcription as running, so batches wait for it to join (see :mod:`.batched`)."""
        return self.batcher.participant() if self.batcher is not None else nullcontext()

    def describe(self) -> dict[str, Any]:
        """Placement, decoding, LM and guard settings, JSON-ready."""
        lm: dict[str, Any] = {"path": None if self.lm_path is None else str(self.lm_path)}
        if self.rescorer is not None:
            lm["rescoring"] = self.rescorer.settings.model_dump()
            lm["lexicon"] = (
                None if self.rescorer.expander is None else self.rescorer.expander.settings.model_dump()
            )
        return {
            "placement": asdict(self.placement),
            "decoding": self.decoding.model_dump(),
            "lm": lm,
            "guards": asdict(self.guards),
        }

    @property
    def rescores(self) -> bool:
        """True when a language model rescores the n-best."""
        return self.rescorer is not None

    def record_hypotheses(self, sink: list[list[Hypothesis]] | None) -> None:
        """Append every rescored window's scored hypotheses to ``sink`` (``awaaz lm tune``)."""
        if self.rescorer is None:
            raise InvalidParameterError(f"Model {self.model_id!r} runs without a language model.")
        self.rescorer.recorder = sink


def _clean_text(text: str, collapse: bool) -> str:
    """Drop U+FFFD (the half of a character cut off by the token bound) and, if asked, collapse loops."""
    text = text.replace("\ufffd", "")
    return collapse_loops(text) if collapse else text.strip()


def _convert(segments: Iterator[FwSegment], collapse: bool) -> Iterator[Segment]:
    for index, seg in enumerate(segments):
        words = tuple(
            Word(start=float(w.start), end=float(w.end), word=w.word, probability=float(w.probability))
            for w in (seg.words or ())
        )
        yield Segment(
            id=index,
            start=float(seg.start),
            end=float(seg.end),
            text=_clean_text(seg.text, collapse),
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio),
            temperature=float(seg.temperature or 0.0),
            tokens=tuple(seg.tokens),
        )
