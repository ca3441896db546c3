"""Encoder outputs precomputed once per clip with CTranslate2, for decoder-only training on a CPU.

The Whisper encoder stays frozen in decoder-only training, so its output for a clip never changes. Computing
it once with CTranslate2 (int8 on CPU, the same kernels inference uses) is several times faster than torch
fp32 and gives the decoder exactly what it will see when serving. By default each clip is encoded on the
trimmed window the engine uses (:func:`awaaz.whisper.windows.window_frames`), which is also 3-7x cheaper
than a 30 s window for the short clips of the training sets. Outputs are ``(frames / 2, d_model)`` float16
``.npy`` files, one per clip, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from awaaz.train.augment import load_clip_audio
from awaaz.train.data import Clip
from awaaz.whisper.windows import pad_to_window

log = logging.getLogger(__name__)


def log_mel(
    audio: npt.NDArray[np.float32], n_mels: int = 80, *, trim: bool = False
) -> npt.NDArray[np.float32]:
    """Whisper log-Mel features of the first window of a clip, as faster-whisper gives them to the encoder.

    Padded with zeros to 30 s, or with ``trim`` to the engine's trimmed window. Like faster-whisper, the
    extractor's last frame (half padding) is not content.
    """
    from faster_whisper.feature_extractor import FeatureExtractor

    extractor = _extractor(n_mels, FeatureExtractor)
    mel = extractor(audio)
    return pad_to_window(mel[:, : max(0, mel.shape[-1] - 1)], trim=trim)


_EXTRACTORS: dict[int, object] = {}


def _extractor(
    n_mels: int, factory: Callable[..., object]
) -> Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]:
    if n_mels not in _EXTRACTORS:
        _EXTRACTORS[n_mels] = factory(feature_size=n_mels)
    return _EXTRACTORS[n_mels]  # type: ignore[return-value]


class EncoderCache:
    """Encoder outputs of clips under one folder, keyed by :attr:`Clip.key`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, clip: Clip) -> Path:
        """Where the output of ``clip`` is (or will be) stored."""
        return self.folder / f"{clip.key}.npy"

    def has(self, clip: Clip) -> bool:
        """True when ``clip`` was already encoded."""
        return self.path(clip).is_file()

    def load(self, clip: Clip) -> npt.NDArray[np.float16]:
        """The stored ``(frames, d_model)`` float16 encoder output of ``clip``."""
        return np.load(self.path(clip))  # type: ignore[no-any-return]

    def store(self, clip: Clip, output: npt.NDArray[np.float16]) -> None:
        """Write ``output`` for ``clip`` atomically."""
        target = self.path(clip)
        partial = target.with_suffix(".partial.npy")
        np.save(partial, output.astype(np.float16))
        partial.replace(target)


def precompute_encoder_outputs(
    clips: Sequence[Clip],
    model_dir: Path,
    cache: EncoderCache,
    *,
    compute_type: str = "int8",
    threads: int = 2,
    batch_size: int = 4,
    trim: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode every clip of ``clips`` not yet in ``cache`` with the CTranslate2 model in ``model_dir``.

    With ``trim``, each clip is encoded on the engine's trimmed window (clips are taken in order of length
    so that a batch holds one window length), else on a 30 s window. Returns how many clips were encoded
    now. ``progress(done, total)`` is called after each batch.
    """
    import ctranslate2

    todo = sorted((c for c in clips if not cache.has(c)), key=lambda c: c.duration_s)
    if not todo:
        return 0
    model = ctranslate2.models.Whisper(
        str(model_dir), device="cpu", compute_type=compute_type, intra_threads=threads
    )
    n_mels = int(model.n_mels)
    done = 0
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        mels = [log_mel(load_clip_audio(c), n_mels, trim=trim) for c in batch]
        for width in sorted({m.shape[-1] for m in mels}):
            group = [(c, m) for c, m in zip(batch, mels, strict=True) if m.shape[-1] == width]
            stacked = np.stack([m for _, m in group])
            output = model.encode(ctranslate2.StorageView.from_array(stacked), to_cpu=True)
            for (clip, _), out in zip(group, np.asarray(output, dtype=np.float32), strict=True):
                cache.store(clip, out.astype(np.float16))
        done += len(batch)
        if progress is not None:
            progress(done, len(todo))
    return len(todo)
