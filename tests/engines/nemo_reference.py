"""NeMo's log-mel features written out from its formulas in float64 numpy: the reference for the engine's.

Follows ``nemo.collections.asr.parts.preprocessing.features.FilterbankFeatures`` (NeMo 2.x) with the settings
of Conformer/FastConformer CTC models, and librosa's Slaney mel filterbank. Deliberately independent of
onnx-asr, whose implementation the engine uses.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
PREEMPH = 0.97
LOG_GUARD = 2.0**-24
STD_GUARD = 1e-5


def _hz_to_mel(freq: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = np.log(6.4) / 27.0
    mels = freq / f_sp
    high = freq >= min_log_hz
    mels[high] = min_log_hz / f_sp + np.log(freq[high] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    freqs = f_sp * mels
    high = mels >= min_log_mel
    freqs[high] = min_log_hz * np.exp(logstep * (mels[high] - min_log_mel))
    return freqs


def slaney_mel_filterbank(n_mels: int, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> npt.NDArray[np.float64]:
    """librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm='slaney'): [n_mels, bins]."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sr / 2]))[0], n_mels + 2)
    )
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / widths[i]
        upper = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[:, None]


def nemo_features(audio: npt.NDArray[np.float32], n_mels: int = 80) -> tuple[npt.NDArray[np.float64], int]:
    """Normalised log-mel features [n_mels, 1 + len // hop] and the valid length ``len // hop``."""
    x = audio.astype(np.float64)
    x = np.concatenate([x[:1], x[1:] - PREEMPH * x[:-1]])
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2))  # torch.stft(center=True, pad_mode="constant")
    frames = 1 + len(x) // HOP_LENGTH
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN_LENGTH) / (WIN_LENGTH - 1))  # periodic=False
    offset = (N_FFT - WIN_LENGTH) // 2
    window = np.zeros(N_FFT)
    window[offset : offset + WIN_LENGTH] = hann
    stack = np.stack([padded[i * HOP_LENGTH : i * HOP_LENGTH + N_FFT] * window for i in range(frames)])
    power = np.abs(np.fft.rfft(stack, n=N_FFT)) ** 2  # [frames, bins]
    log_mel = np.log(slaney_mel_filterbank(n_mels) @ power.T + LOG_GUARD)  # [n_mels, frames]
    valid = len(x) // HOP_LENGTH
    mean = log_mel[:, :valid].mean(axis=1, keepdims=True)
    std = np.sqrt(((log_mel[:, :valid] - mean) ** 2).sum(axis=1, keepdims=True) / (valid - 1)) + STD_GUARD
    features = (log_mel - mean) / std
    features[:, valid:] = 0.0
    return features, valid
