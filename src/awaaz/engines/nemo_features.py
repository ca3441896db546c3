"""NeMo-compatible log-mel features, computed by onnx-asr's NeMo preprocessor (an ONNX graph it ships).

NeMo's ``AudioToMelSpectrogramPreprocessor`` as Conformer/FastConformer CTC models use it: pre-emphasis 0.97,
a 512-point STFT of 25 ms Hann windows every 10 ms (centred, zero padded), power spectrum, Slaney mel
filterbank (80 or 128 bands), ``log(x + 2**-24)`` and per-feature normalisation over the utterance. A model
whose settings differ is refused at load time with the list of differences, rather than decoded badly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from awaaz.errors import ModelLoadError

SAMPLE_RATE = 16_000
HOP_LENGTH = 160
SUPPORTED_FEATURES = (80, 128)

# NeMo preprocessor settings this implementation reproduces: key -> accepted values. Keys a config omits
# take NeMo's defaults, which are these.
_REQUIRED: dict[str, tuple[Any, ...]] = {
    "sample_rate": (16000,),
    "window_size": (0.025,),
    "window_stride": (0.01,),
    "window": ("hann",),
    "n_fft": (512, None),
    "normalize": ("per_feature",),
    "log": (True,),
    "frame_splicing": (1,),
    "preemph": (0.97,),
    "mag_power": (2.0, 2),
    "log_zero_guard_type": ("add",),
    "log_zero_guard_value": (2**-24, "2**-24"),
    "mel_norm": ("slaney",),
    "pad_to": (0, 16),
}
# Settings that only matter in training (dither) or are cosmetic; accepted whatever their value.
_IGNORED = {"_target_", "dither", "pad_value", "lowfreq", "highfreq", "exact_pad", "stft_conv", "use_grads"}


def check_preprocessor(settings: Mapping[str, Any]) -> int:
    """Validate NeMo preprocessor settings; return the number of mel bands. Raises :class:`ModelLoadError`."""
    features = int(settings.get("features", settings.get("nfilt", 80)))
    problems = []
    if features not in SUPPORTED_FEATURES:
        problems.append(f"features={features} (supported: 80, 128)")
    for key, accepted in _REQUIRED.items():
        if key in settings and not _matches(settings[key], accepted):
            problems.append(f"{key}={settings[key]!r} (supported: {', '.join(map(repr, accepted))})")
    if problems:
        raise ModelLoadError(
            "The model's preprocessor settings differ from the NeMo log-mel features Awaaz computes: "
            + "; ".join(problems)
            + ". Awaaz serves NeMo Conformer/FastConformer CTC models with the standard 16 kHz preprocessor."
        )
    return features


def _matches(value: Any, accepted: tuple[Any, ...]) -> bool:
    for candidate in accepted:
        if isinstance(candidate, float) and isinstance(value, int | float) and not isinstance(value, bool):
            if abs(float(value) - candidate) < 1e-9:
                return True
        elif value == candidate:
            return True
    return False


class NemoFeatureExtractor:
    """16 kHz float32 waveform -> ``[n_mels, frames]`` NeMo features, by onnx-asr's ONNX preprocessor."""

    def __init__(self, features: int = 80, session_options: ort.SessionOptions | None = None) -> None:
        if features not in SUPPORTED_FEATURES:
            raise ModelLoadError(
                f"NeMo features with {features} mel bands are not supported (use 80 or 128)."
            )
        try:
            from onnx_asr.preprocessors.preprocessor import OnnxPreprocessor
        except ImportError as exc:
            raise ModelLoadError(
                "The nemo-ctc-onnx engine needs the package onnx-asr. Run `pip install onnx-asr`."
            ) from exc
        self.features = features
        options: dict[str, Any] = {"providers": ["CPUExecutionProvider"]}
        if session_options is not None:
            options["sess_options"] = session_options
        self._preprocessor = OnnxPreprocessor(f"nemo{features}", options)  # type: ignore[arg-type]

    def __call__(self, audio: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], int]:
        """Features ``[n_mels, frames]`` of one utterance and the number of valid frames."""
        waveform = np.ascontiguousarray(audio, dtype=np.float32)[None, :]
        features, lengths = self._preprocessor(waveform, np.array([waveform.shape[1]], dtype=np.int64))
        return features[0], int(lengths[0])
