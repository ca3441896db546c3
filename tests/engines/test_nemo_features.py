"""The engine's NeMo features (onnx-asr's preprocessor) against NeMo's formulas written out in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from awaaz.engines.nemo_features import NemoFeatureExtractor, check_preprocessor
from awaaz.errors import ModelLoadError
from tests.engines.nemo_reference import nemo_features, slaney_mel_filterbank


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16_000)) / 16_000
    tone = 0.3 * np.sin(2 * np.pi * (180 + 60 * np.sin(2 * np.pi * 3 * t)) * t)
    return (tone * (1 + np.sin(2 * np.pi * 2 * t)) + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("n_mels", [80, 128])
@pytest.mark.parametrize("seconds", [0.5, 1.37, 4.0])
def test_features_match_the_nemo_formulas(n_mels: int, seconds: float) -> None:
    audio = _speechlike(seconds)
    expected, valid = nemo_features(audio, n_mels)
    features, length = NemoFeatureExtractor(n_mels)(audio)
    assert features.shape == expected.shape
    assert length == valid
    np.testing.assert_allclose(features, expected, atol=5e-4)


def test_reference_filterbank_is_slaney() -> None:
    bank = slaney_mel_filterbank(80)
    assert bank.shape == (80, 257)
    # Slaney normalisation: every triangle has unit area in Hz (2 / bandwidth peak height).
    assert np.all(bank.max(axis=1) > 0)
    assert bank[:, 0].sum() == 0.0


def test_silence_gives_finite_features() -> None:
    features, _ = NemoFeatureExtractor(80)(np.zeros(16_000, dtype=np.float32))
    assert np.isfinite(features).all()


def test_supported_preprocessor_passes() -> None:
    assert (
        check_preprocessor({"features": 80, "n_fft": 512, "window_size": 0.025, "normalize": "per_feature"})
        == 80
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("sample_rate", 8000), ("normalize", "all_features"), ("window_stride", 0.02), ("features", 64)],
)
def test_unsupported_preprocessor_is_refused_with_the_reason(key: str, value: object) -> None:
    with pytest.raises(ModelLoadError, match=key):
        check_preprocessor({"features": 80, key: value})
