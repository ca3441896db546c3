"""Decode any common audio container with PyAV into mono float32 samples at 16 kHz.

Plain functions over bytes, paths and numpy arrays; no HTTP here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NoAudioSamplesError,
    NoAudioStreamError,
)
from awaaz.types import SAMPLE_RATE

AudioSource = bytes | bytearray | memoryview | str | Path | BinaryIO
Audio = npt.NDArray[np.float32]

BLOCK_S = 30.0
"""Seconds of audio in each block that :func:`stream_audio` yields (the last may be shorter)."""
SUPPORTED_FORMATS = ("wav", "mp3", "flac", "ogg", "opus", "webm", "m4a", "aac", "mp4", "mpeg", "mpga")


ALLOWED_FORMATS = (
    "wav,w64,mp3,flac,ogg,matroska,webm,mov,mp4,m4a,3gp,3g2,mj2,aac,ac3,eac3,aiff,au,caf,amr,amrnb,amrwb,"
    "asf,wv,ape,tta,mpc,mpc8,dts,mpeg,mpegts,avi,flv,voc"
)
"""The demuxers FFmpeg may use: audio and media containers only. Formats that open other files or network
connections (SDP opens RTP sockets; ffconcat, HLS playlists and image sequences read other paths) are
refused before they do anything."""
PROTOCOLS = "file"
"""Protocols a demuxer may open beyond its own input (none of the allowed ones needs any)."""
MAX_SAMPLE_RATE = 192_000
MIN_SAMPLE_RATE = 4_000
MAX_CHANNELS = 16
WAV_BITS = {1: (8, 16, 24, 32), 3: (32, 64)}
"""Bits per sample a WAV may declare for integer PCM (format 1) and IEEE float (format 3)."""
WAVE_FORMAT_EXTENSIBLE = 0xFFFE


def _wav_format_problem(head: bytes) -> str | None:
    """What is wrong with the sample format a RIFF/WAVE header declares, or None (also for other files).

    FFmpeg reads a header claiming 7 or 64-bit integer samples as some other format and decodes noise or
    silence; such files are refused instead."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
        if chunk == b"fmt " and at + 24 <= len(head):
            tag = int.from_bytes(head[at + 8 : at + 10], "little")
            bits = int.from_bytes(head[at + 22 : at + 24], "little")
            if tag == WAVE_FORMAT_EXTENSIBLE and at + 34 <= len(head):
                tag = int.from_bytes(head[at + 32 : at + 34], "little")  # the sub-format GUID's first bytes
            allowed = WAV_BITS.get(tag)
            if allowed is not None and bits not in allowed:
                kind = "integer PCM" if tag == 1 else "float"
                return (
                    f"{bits} bits per sample of {kind} (WAV {kind} has "
                    f"{', '.join(str(b) for b in allowed)} bits)"
                )
            return None
        at += 8 + size + (size & 1)
    return None


def _stream_problem(rate: int, channels: int) -> str | None:
    """What is wrong with a stream's declared rate or channel count (costly or useless to decode)."""
    if rate > MAX_SAMPLE_RATE:
        return f"a sample rate of {rate} Hz (at most {MAX_SAMPLE_RATE} Hz is accepted)"
    if 0 < rate < MIN_SAMPLE_RATE:
        return f"a sample rate of {rate} Hz (speech needs at least {MIN_SAMPLE_RATE} Hz)"
    if channels > MAX_CHANNELS:
        return f"{channels} channels (at most {MAX_CHANNELS} are accepted)"
    return None


def _peek(handle: BinaryIO | str, size: int = 4096) -> bytes:
    """The first bytes of the input, leaving a file object where it was (b"" when it cannot seek)."""
    if isinstance(handle, str):
        with open(handle, "rb") as file:
            return file.read(size)
    if not handle.seekable():
        return b""
    where = handle.tell()
    head = handle.read(size)
    handle.seek(where)
    return head


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
    """Decode ``source`` to mono float32 at 16 kHz, all at once.

    Raises an :class:`~awaaz.errors.AudioError` subclass for empty input, undecodable bytes, a container
    with no audio stream, a stream with no samples, or audio longer than ``max_duration_s``; decoding stops
    as soon as the limit is passed, so an over-long file costs no more than the limit to reject. Long
    audio is better read block by block with :func:`stream_audio`.
    """
    chunks = list(stream_audio(source, max_duration_s=max_duration_s))
    audio = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return np.ascontiguousarray(audio, dtype=np.float32)


class AudioBlocks:
    """Mono float32 16 kHz audio decoded lazily, in blocks of exactly ``block_s`` seconds (the last shorter).

    Opening checks the container (empty input, no audio stream, undecodable bytes raise at once);
    iterating decodes and resamples only as far as the consumer has read, so memory does not grow with
    the file's duration. Iterate once; the container is closed when iteration ends or :meth:`close` is
    called.
    """

    def __init__(self, source: AudioSource, *, max_duration_s: float | None, block_s: float) -> None:
        handle, size = _open_input(source)
        if size == 0:
            raise EmptyAudioError("The uploaded file is empty (0 bytes). Send an audio file.")
        self.max_duration_s = max_duration_s
        self._block = block_samples(block_s)
        self.decoded_samples = 0
        """Samples produced so far (the whole file's once iteration has ended)."""
        options = {"format_whitelist": ALLOWED_FORMATS, "protocol_whitelist": PROTOCOLS}
        self._wav_problem = _wav_format_problem(_peek(handle))
        with _decode_errors():
            self._container = av.open(handle, mode="r", metadata_errors="ignore", options=options)
        if not self._container.streams.audio:
            self._container.close()
            raise NoAudioStreamError(
                "The file has no audio stream (is it a video without sound, or an image?). "
                "Send a file that contains audio."
            )
        self._stream = self._container.streams.audio[0]
        self._check_declared()

    def _check_declared(self) -> None:
        """Refuse, before any decoding, what the stream declares it would cost too much to decode."""
        problem = self._wav_problem
        try:
            problem = problem or _stream_problem(self._stream.rate or 0, self._stream.channels or 0)
        except AttributeError:  # PyAV gives no codec context: FFmpeg has no decoder for this stream
            problem = "a format no decoder here reads"
        if problem is not None:
            self._container.close()
            raise AudioDecodeError(
                f"The audio stream declares {problem}. Re-encode it as ordinary audio, for example 16-bit "
                "PCM WAV at 16 kHz."
            )
        declared, limit = self.declared_duration_s, self.max_duration_s
        if declared is not None and limit is not None and declared > limit + 1.0:
            self._container.close()
            raise AudioTooLongError(
                f"The file declares {declared:.0f} s of audio, longer than the {limit:g} s limit for this "
                "request. Trim it, or submit it as an asynchronous job (POST /v1/jobs)."
            )

    @property
    def declared_duration_s(self) -> float | None:
        """The duration the container declares (it may be absent or wrong; the decoded audio decides)."""
        stream = self._stream
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if self._container.duration is not None:
            return float(self._container.duration) / av.time_base
        return None

    def __iter__(self) -> Iterator[Audio]:
        try:
            yield from self._blocks()
        finally:
            self.close()
        if self.decoded_samples == 0:
            raise NoAudioSamplesError(
                "The file decoded to no audio samples (truncated or empty stream). "
                "Send a file with sound in it."
            )

    def _blocks(self) -> Iterator[Audio]:
        with _decode_errors():
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            frames = _frames(self._container, self._stream)
            resampled = (out for frame in _with_flush(frames) for out in resampler.resample(frame))
            yield from fixed_blocks((self._checked(out) for out in resampled), self._block)

    def _checked(self, frame: av.AudioFrame) -> Audio:
        samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        limit = self.max_duration_s
        if limit is not None and self.decoded_samples + samples.shape[0] > int(limit * SAMPLE_RATE):
            raise AudioTooLongError(
                f"The audio is longer than the {limit:g} s limit for this request. "
                "Trim it, or submit it as an asynchronous job."
            )
        self.decoded_samples += samples.shape[0]
        return samples

    def close(self) -> None:
        """Close the container (idempotent)."""
        self._container.close()


def stream_audio(
    source: AudioSource, *, max_duration_s: float | None = None, block_s: float = BLOCK_S
) -> AudioBlocks:
    """Open ``source`` for decoding block by block (:class:`AudioBlocks`); errors as :func:`decode_audio`."""
    return AudioBlocks(source, max_duration_s=max_duration_s, block_s=block_s)


def block_samples(block_s: float) -> int:
    """Samples in a block of ``block_s`` seconds, as :func:`stream_audio` cuts them (at least one)."""
    return max(1, int(block_s * SAMPLE_RATE))


def fixed_blocks(parts: Iterable[Audio], samples: int) -> Iterator[Audio]:
    """The audio of ``parts`` in blocks of exactly ``samples`` (the last one shorter), however long the
    parts are: a long recording's pieces depend on where its blocks end, so a file must give the same
    blocks from any container (decoded frames hold 2,048 samples from WAV, 4,608 from our FLAC, 1,152 from
    MP3) and when read clip by clip (``awaaz eval --concat``)."""
    pending: list[Audio] = []
    held = 0
    for part in parts:
        pending.append(part)
        held += part.shape[0]
        if held < samples:
            continue
        joined = _joined(pending)
        cut = held - held % samples
        for start in range(0, cut, samples):
            yield joined[start : start + samples]
        pending, held = ([joined[cut:]], held - cut) if held > cut else ([], 0)
    if held:
        yield _joined(pending)


def declared_duration(source: AudioSource) -> float | None:
    """The duration ``source``'s container declares (None if it declares none), read from its header
    without decoding; errors as :func:`stream_audio`."""
    blocks = stream_audio(source)
    try:
        return blocks.declared_duration_s
    finally:
        blocks.close()


def skip_samples(blocks: Iterable[Audio], count: int) -> Iterator[Audio]:
    """``blocks`` without their first ``count`` samples (to resume a transcription part-way)."""
    for block in blocks:
        if count >= block.shape[0]:
            count -= block.shape[0]
            continue
        yield block[count:] if count else block
        count = 0


def _with_flush(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame | None]:
    """The frames, then ``None``: the resampler's signal to flush what it holds."""
    yield from frames
    yield None


def _joined(parts: list[Audio]) -> Audio:
    return np.ascontiguousarray(np.concatenate(parts) if len(parts) > 1 else parts[0], dtype=np.float32)


@contextmanager
def _decode_errors() -> Iterator[None]:
    """Turn FFmpeg's and PyAV's failures into :class:`~awaaz.errors.AudioDecodeError`."""
    try:
        yield
    except AudioError:
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


def duration_s(audio: Audio) -> float:
    """Length of 16 kHz audio in seconds."""
    return float(audio.shape[0]) / SAMPLE_RATE
