"""NeMo Conformer / FastConformer CTC models exported to ONNX, on ONNX Runtime (engine ``nemo-ctc-onnx``).

A model directory holds (the layout ``awaaz models export-nemo`` writes, and the one onnx-asr reads):

- ``model.onnx``: inputs ``audio_signal`` [batch, n_mels, frames] float32 and ``length`` [batch] int64;
  first output the CTC log-probabilities [batch, frames', vocabulary + 1]; an optional second output the
  encoded lengths (otherwise computed from ``subsampling_factor``).
- ``vocab.txt``: one ``token id`` per line, ``▁`` marking a word start, ``<blk>`` the CTC blank (when absent,
  the blank is the last label).
- ``config.json``: ``features_size``, ``subsampling_factor``, ``language`` and ``preprocessor`` (NeMo's
  preprocessor settings, checked against the features computed here).

Long audio is cut into chunks at pauses found by Silero VAD (faster-whisper's), each chunk decoded greedily
into one segment with word times from the CTC frames.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from awaaz.audio import Audio
from awaaz.config import DecodingSettings, NemoSettings
from awaaz.engines.base import Placement
from awaaz.engines.ctc import greedy_decode, group_words, log_softmax, tokens_to_text
from awaaz.engines.nemo_features import HOP_LENGTH, NemoFeatureExtractor, check_preprocessor
from awaaz.errors import InvalidParameterError, ModelLoadError
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo, Word

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "config.json"
BLANK_TOKEN = "<blk>"
INPUT_NAMES = ("audio_signal", "length")


@dataclass(frozen=True, slots=True)
class NemoModelFiles:
    """The parsed contents of a model directory."""

    vocabulary: list[str]
    blank_id: int
    features: int
    subsampling_factor: int
    language: str


def read_vocabulary(path: Path) -> tuple[list[str], int]:
    """Read ``vocab.txt`` (``token id`` lines); return tokens indexed by id and the blank id."""
    entries: dict[int, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        token, sep, index = line.rpartition(" ")
        if not sep or not index.isdigit():
            raise ModelLoadError(f"{path}:{number}: expected 'token id', got {line!r}.")
        entries[int(index)] = token
    if sorted(entries) != list(range(len(entries))):
        raise ModelLoadError(f"{path}: token ids must run 0..N-1 without gaps.")
    vocabulary = [entries[i] for i in range(len(entries))]
    blank_id = vocabulary.index(BLANK_TOKEN) if BLANK_TOKEN in vocabulary else len(vocabulary)
    return vocabulary, blank_id


def read_model_files(path: Path) -> NemoModelFiles:
    """Check a model directory and parse its vocabulary and config. Raises :class:`ModelLoadError`."""
    missing = [name for name in (MODEL_FILE, VOCAB_FILE) if not (path / name).is_file()]
    if missing:
        raise ModelLoadError(
            f"{path} is not a NeMo CTC ONNX model directory: {', '.join(missing)} missing. Export a .nemo "
            "checkpoint with `awaaz models export-nemo FILE.nemo OUT_DIR`."
        )
    config: dict[str, Any] = {}
    if (path / CONFIG_FILE).is_file():
        try:
            config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{path / CONFIG_FILE} is not valid JSON: {exc}.") from exc
    preprocessor = dict(config.get("preprocessor") or {})
    preprocessor.setdefault("features", config.get("features_size", 80))
    features = check_preprocessor(preprocessor)
    vocabulary, blank_id = read_vocabulary(path / VOCAB_FILE)
    return NemoModelFiles(
        vocabulary=vocabulary,
        blank_id=blank_id,
        features=features,
        subsampling_factor=int(config.get("subsampling_factor", 4)),
        language=str(config.get("language", "hi")),
    )


class NemoCtcOnnxEngine:
    """An exported NeMo CTC model on ONNX Runtime: NeMo features, greedy CTC, word times, VAD chunking."""

    def __init__(
        self,
        model_id: str,
        path: Path,
        settings: NemoSettings | None = None,
        *,
        decoding: DecodingSettings | None = None,
        placement: Placement | None = None,
    ) -> None:
        self.model_id = model_id
        self.path = path
        self.settings = settings or NemoSettings()
        self.decoding = decoding or DecodingSettings()
        self.placement = placement or Placement()
        self.files = read_model_files(path)
        options = ort.SessionOptions()
        if self.placement.cpu_threads:
            options.intra_op_num_threads = self.placement.cpu_threads
        try:
            self._session: ort.InferenceSession | None = ort.InferenceSession(
                str(path / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelLoadError(
                f"ONNX Runtime could not load {path / MODEL_FILE} for model {model_id!r}: {exc}. Re-export "
                "the checkpoint with `awaaz models export-nemo`."
            ) from exc
        self._check_signature(self._session)
        self._features = NemoFeatureExtractor(self.files.features, options)
        self._lock = threading.Lock()  # guards close(); ONNX Runtime sessions are safe to run concurrently

    def _check_signature(self, session: ort.InferenceSession) -> None:
        names = tuple(i.name for i in session.get_inputs())
        if set(names) != set(INPUT_NAMES):
            raise ModelLoadError(
                f"{self.path / MODEL_FILE} has inputs {names}; a NeMo CTC export has {INPUT_NAMES}. Is it an "
                "RNN-T or AED model? Only CTC models (or the CTC branch of a hybrid) are supported."
            )
        labels = session.get_outputs()[0].shape[-1]
        expected = max(len(self.files.vocabulary), self.files.blank_id + 1)
        if isinstance(labels, int) and labels != expected:
            raise ModelLoadError(
                f"{self.path / MODEL_FILE} outputs {labels} labels but {VOCAB_FILE} implies {expected} "
                "(vocabulary plus blank). The vocabulary does not belong to this model."
            )

    @property
    def frame_s(self) -> float:
        """Seconds per output (encoder) frame."""
        return HOP_LENGTH / SAMPLE_RATE * self.files.subsampling_factor

    def logprobs(self, audio: Audio) -> npt.NDArray[np.float32]:
        """CTC log-probabilities ``[frames, labels]`` of one chunk of 16 kHz audio."""
        session = self._session
        if session is None:
            raise ModelLoadError(f"Model {self.model_id!r} was unloaded; load it again.")
        features, length = self._features(audio)
        outputs = session.run(
            None, {"audio_signal": features[None, :, :], "length": np.array([length], dtype=np.int64)}
        )
        logits = np.asarray(outputs[0], dtype=np.float32)[0]
        if len(outputs) > 1:
            frames = int(np.asarray(outputs[1]).reshape(-1)[0])
        else:
            frames = (length - 1) // self.files.subsampling_factor + 1
        return log_softmax(logits[: max(0, min(frames, logits.shape[0]))])

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        """Start a transcription; chunks are decoded as the returned iterator is consumed."""
        self.check(options)
        vad = self.decoding.vad_filter if options.vad_filter is None else options.vad_filter
        info = TranscriptionInfo(
            language=self.files.language, duration=len(audio) / SAMPLE_RATE, model=self.model_id
        )
        return Transcription(info=info, segments=self._segments(audio, vad, options.word_timestamps))

    def check(self, options: TranscribeOptions) -> None:
        """This model transcribes its one language."""
        if options.task != "transcribe":
            raise InvalidParameterError(
                f"Model {self.model_id!r} only transcribes; translation needs a Whisper model.", param="task"
            )
        if options.language and options.language != self.files.language:
            raise InvalidParameterError(
                f"Model {self.model_id!r} recognises only {self.files.language!r}; got {options.language!r}.",
                param="language",
            )

    def _segments(self, audio: Audio, vad: bool, with_words: bool) -> Iterator[Segment]:
        index = 0
        for start, end in self.chunks(audio, vad):
            segment = self.decode_chunk(audio[start:end], start / SAMPLE_RATE, index, with_words)
            if segment.text:
                yield segment
                index += 1

    def chunks(self, audio: Audio, vad: bool) -> list[tuple[int, int]]:
        """Sample ranges to decode: speech regions (merged up to ``chunk_s``) or fixed windows."""
        max_samples = int(self.settings.chunk_s * SAMPLE_RATE)
        if not vad:
            return [(s, min(s + max_samples, len(audio))) for s in range(0, len(audio), max_samples)]
        return speech_chunks(audio, self.settings.chunk_s, self.settings.merge_gap_s)

    def decode_chunk(self, audio: Audio, offset_s: float, index: int, with_words: bool) -> Segment:
        """Decode one chunk into a segment whose times are offset by ``offset_s``."""
        logprobs = self.logprobs(audio)
        tokens = greedy_decode(logprobs, self.files.vocabulary, self.files.blank_id)
        frame_s = self.frame_s
        duration = len(audio) / SAMPLE_RATE
        words: tuple[Word, ...] = ()
        if with_words:
            words = tuple(
                Word(
                    start=round(offset_s + w.start_frame * frame_s, 3),
                    end=round(offset_s + min(w.end_frame * frame_s, duration), 3),
                    word=" " + w.text,
                    probability=float(np.exp(w.logprob)),
                )
                for w in group_words(tokens)
            )
        start = offset_s + (tokens[0].start_frame * frame_s if tokens else 0.0)
        end = offset_s + (min(tokens[-1].end_frame * frame_s, duration) if tokens else duration)
        return Segment(
            id=index,
            start=round(start, 3),
            end=round(end, 3),
            text=tokens_to_text(tokens),
            words=words,
            avg_logprob=float(np.mean([t.logprob for t in tokens])) if tokens else 0.0,
            no_speech_prob=float(np.exp(logprobs[:, self.files.blank_id]).mean()) if len(logprobs) else 1.0,
            tokens=tuple(t.id for t in tokens),
        )

    def participant(self) -> AbstractContextManager[None]:
        """ONNX Runtime calls are not batched across transcriptions: nothing to count."""
        return nullcontext()

    def describe(self) -> dict[str, Any]:
        """Cutting, decoding and placement settings, JSON-ready."""
        return {
            "nemo": self.settings.model_dump(),
            "vad_filter": self.decoding.vad_filter,
            "placement": asdict(self.placement),
        }

    def close(self) -> None:
        """Drop the ONNX Runtime session so its memory is freed."""
        with self._lock:
            self._session = None


def speech_chunks(audio: Audio, chunk_s: float, merge_gap_s: float) -> list[tuple[int, int]]:
    """Silero VAD speech regions, neighbours closer than ``merge_gap_s`` merged while under ``chunk_s``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(max_speech_duration_s=chunk_s, min_silence_duration_ms=300, speech_pad_ms=200)
    regions = [(int(r["start"]), int(r["end"])) for r in get_speech_timestamps(audio, options)]
    max_samples = int(chunk_s * SAMPLE_RATE)
    gap = int(merge_gap_s * SAMPLE_RATE)
    merged: list[tuple[int, int]] = []
    for start, end in regions:
        if merged and start - merged[-1][1] <= gap and end - merged[-1][0] <= max_samples:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
