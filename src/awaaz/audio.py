"""Decode any common audio container with PyAV into mono float32 samples at 16 kHz.

Plain functions over bytes, paths and numpy arrays; no HTTP here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer

from awaaz.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    NoAudioSamplesError,
    NoAudioStreamError,
)
from awaaz.types import SAMPLE_RATE

AudioSource = bytes | bytearray | memoryview | str | Path | BinaryIO
Audio = npt.NDArray[np.float32]

SUPPORTED_FORMATS = ("wav", "mp3", "flac", "ogg", "opus", "webm", "m4a", "aac", "mp4", "mpeg", "mpga")


def _open_input(source: AudioSource) -> tuple[BinaryIO | str, int | None]:
    """Return something PyAV can open, and its size in bytes where that is cheap to know."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return io.BytesIO(data), len(data)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise AudioDecodeError(f"No such audio file: {path}. Check the path.")
        return str(path), path.stat().st_size
    return source, None


def decode_audio(source: AudioSource, *, max_duration_s: float | None = None) -> Audio:
    """Decode ``source`` to mono float32 at 16 kHz.

    Raises an :class:`~awaaz.errors.AudioError` subclass for empty input, undecodable bytes, a container
    with no audio stream, a stream with no samples, or audio longer than ``max_duration_s``; decoding stops
    as soon as the limit is passed, so an over-long file costs no more than the limit to reject.
    """
    handle, size = _open_input(source)
    if size == 0:
        raise EmptyAudioError("The uploaded file is empty (0 bytes). Send an audio file.")
    max_samples = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE)
    chunks: list[Audio] = []
    total = 0
    try:
        with av.open(handle, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise NoAudioStreamError(
                    "The file has no audio stream (is it a video without sound, or an image?). "
                    "Send a file that contains audio."
                )
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in _frames(container, stream):
                for out in resampler.resample(frame):
                    total += _append(chunks, out, total, max_samples, max_duration_s)
            for out in resampler.resample(None):
                total += _append(chunks, out, total, max_samples, max_duration_s)
    except (AudioTooLongError, NoAudioStreamError):
        raise
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(
            f"Could not decode the file as audio ({exc.strerror or type(exc).__name__}). "
            f"Send a valid audio file in one of: {', '.join(SUPPORTED_FORMATS)}."
        ) from exc
    except (UnicodeDecodeError, ValueError, IndexError, EOFError) as exc:
        raise AudioDecodeError(
            f"Could not decode the file as audio ({exc}). "
            f"Send a valid audio file in one of: {', '.join(SUPPORTED_FORMATS)}."
        ) from exc
    if total == 0:
        raise NoAudioSamplesError(
            "The file decoded to no audio samples (truncated or empty stream). Send a file with sound in it."
        )
    audio = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return np.ascontiguousarray(audio, dtype=np.float32)


def _frames(container: InputContainer, stream: AudioStream) -> Iterator[av.AudioFrame]:
    """Yield decoded frames, tolerating a broken packet at the very end of a truncated file."""
    yielded = 0
    try:
        for frame in container.decode(stream):
            yielded += 1
            yield frame
    except av.error.InvalidDataError:
        if yielded == 0:
            raise


def _append(
    chunks: list[Audio], frame: av.AudioFrame, total: int, max_samples: int | None, max_s: float | None
) -> int:
    samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    if max_samples is not None and total + samples.shape[0] > max_samples:
        raise AudioTooLongError(
            f"The audio is longer than the {max_s:g} s limit for this request. "
            "Trim it, or submit it as an asynchronous job."
        )
    chunks.append(samples)
    return int(samples.shape[0])


def duration_s(audio: Audio) -> float:
    """Length of 16 kHz audio in seconds."""
    return float(audio.shape[0]) / SAMPLE_RATE
