"""Decoding every supported container, rate and channel layout, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from awaaz.audio import decode_audio, duration_s, fixed_blocks, stream_audio
from awaaz.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    NoAudioSamplesError,
    NoAudioStreamError,
)
from awaaz.types import SAMPLE_RATE
from tests.conftest import ENCODINGS, Clip, encode, tone


@pytest.mark.parametrize("ext", sorted(ENCODINGS))
def test_every_format_decodes_to_mono_16k_float32(ext: str) -> None:
    data = encode(tone(2.0, rate=44_100, channels=2), 44_100, ext)
    audio = decode_audio(data)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    # Lossy codecs add priming/padding; the length stays within 0.1 s of the truth.
    assert abs(duration_s(audio) - 2.0) < 0.1
    assert 0.2 < float(np.abs(audio).max()) <= 1.0


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100, 48_000])
@pytest.mark.parametrize("channels", [1, 2])
def test_any_rate_and_channel_count_is_resampled(rate: int, channels: int) -> None:
    audio = decode_audio(encode(tone(1.5, rate=rate, channels=channels, freq=300.0), rate, "wav"))
    assert audio.shape[0] == pytest.approx(1.5 * SAMPLE_RATE, abs=2)
    # The 300 Hz tone survives resampling: its spectrum peaks at 300 Hz.
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / audio.shape[0]
    assert peak_hz == pytest.approx(300.0, abs=2.0)


def test_stereo_is_averaged_to_mono() -> None:
    left = tone(1.0, freq=500.0)[0]
    stereo = np.stack([left, -left])  # opposite phases cancel when averaged
    audio = decode_audio(encode(stereo, SAMPLE_RATE, "wav"))
    assert float(np.abs(audio).max()) < 1e-3


def test_silence_decodes_to_zeros() -> None:
    audio = decode_audio(encode(np.zeros((1, SAMPLE_RATE), dtype=np.float32), SAMPLE_RATE, "flac"))
    assert audio.shape[0] == SAMPLE_RATE
    assert float(np.abs(audio).max()) == 0.0


def test_paths_and_file_objects_are_accepted(hindi_clips: list[Clip]) -> None:
    clip = hindi_clips[0]
    from_path = decode_audio(clip.path)
    with clip.path.open("rb") as handle:
        from_handle = decode_audio(handle)
    assert np.array_equal(from_path, decode_audio(clip.path.read_bytes()))
    assert np.array_equal(from_path, from_handle)
    assert duration_s(from_path) == pytest.approx(clip.duration_s, abs=0.01)


def test_zero_bytes_is_an_empty_file_error() -> None:
    with pytest.raises(EmptyAudioError, match="empty"):
        decode_audio(b"")


@pytest.mark.parametrize(
    "garbage",
    [b"not audio at all" * 100, bytes(range(256)) * 40, b"RIFF\x00\x00\x00\x00WAVEfmt garbage", b"\x00"],
)
def test_corrupt_bytes_are_a_decode_error(garbage: bytes) -> None:
    with pytest.raises((AudioDecodeError, NoAudioSamplesError)) as info:
        decode_audio(garbage)
    assert "audio" in info.value.message


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "ogg", "m4a"])
def test_truncated_files_fail_cleanly_or_decode_what_is_there(ext: str) -> None:
    data = encode(tone(2.0), SAMPLE_RATE, ext)
    for cut in (16, len(data) // 10, len(data) // 2):
        try:
            audio = decode_audio(data[:cut])
        except (AudioDecodeError, NoAudioSamplesError, NoAudioStreamError) as exc:
            message = exc.message
        else:
            message = "decoded"
            assert audio.dtype == np.float32
            assert duration_s(audio) <= 2.1
        assert message


def test_a_file_with_no_audio_stream_is_refused() -> None:
    import io

    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(NoAudioStreamError, match="no audio stream"):
        decode_audio(buffer.getvalue())


def test_audio_over_the_limit_is_refused() -> None:
    data = encode(tone(3.0), SAMPLE_RATE, "flac")
    assert duration_s(decode_audio(data, max_duration_s=3.5)) == pytest.approx(3.0, abs=0.01)
    with pytest.raises(AudioTooLongError, match="2 s limit"):
        decode_audio(data, max_duration_s=2.0)


def test_missing_path_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AudioDecodeError, match="No such audio file"):
        decode_audio(tmp_path / "nope.wav")


def test_streaming_yields_blocks_that_add_up_to_the_whole_decode() -> None:
    data = encode(tone(7.3, rate=44_100, channels=2), 44_100, "flac")
    blocks = stream_audio(data, block_s=2.0)
    assert blocks.declared_duration_s == pytest.approx(7.3, abs=0.05)
    parts = list(blocks)
    assert [p.shape[0] for p in parts[:-1]] == [2 * SAMPLE_RATE] * 3  # exactly a block each
    assert 0 < parts[-1].shape[0] <= 2 * SAMPLE_RATE
    np.testing.assert_array_equal(np.concatenate(parts), decode_audio(data))
    assert blocks.decoded_samples == sum(p.shape[0] for p in parts)


def test_the_same_samples_give_the_same_blocks_from_any_container() -> None:
    # WAV and FLAC hold the 16 kHz samples exactly but decode in frames of other sizes; a long
    # recording's pieces depend on where its blocks end, so the blocks must not.
    noise = 0.01 * np.random.default_rng(0).standard_normal(int(9.5 * SAMPLE_RATE))
    samples = (tone(9.5) + noise).astype(np.float32)
    wav, flac = (list(stream_audio(encode(samples, SAMPLE_RATE, x), block_s=2.0)) for x in ("wav", "flac"))
    assert [b.shape[0] for b in wav] == [b.shape[0] for b in flac]
    for a, b in zip(wav, flac, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fixed_blocks_cut_any_parts_into_blocks_of_one_size() -> None:
    parts = [np.arange(n, dtype=np.float32) for n in (3, 10, 1, 0, 7, 25)]
    blocks = list(fixed_blocks(iter(parts), 8))
    assert [b.shape[0] for b in blocks] == [8, 8, 8, 8, 8, 6]
    np.testing.assert_array_equal(np.concatenate(blocks), np.concatenate(parts))
    assert list(fixed_blocks(iter([]), 8)) == []


def test_streaming_checks_the_container_when_opened() -> None:
    with pytest.raises(EmptyAudioError):
        stream_audio(b"")
    with pytest.raises(AudioDecodeError):
        stream_audio(b"\x00not audio at all" * 100)


def test_a_declared_duration_past_the_limit_is_refused_before_decoding() -> None:
    with pytest.raises(AudioTooLongError, match="declares 6 s"):
        stream_audio(encode(tone(6.0), SAMPLE_RATE, "wav"), max_duration_s=3.0)


def test_streaming_refuses_audio_over_the_limit_once_it_gets_there() -> None:
    # Declared within a second of the limit (a header may be a little off): decoding stops at the limit.
    blocks = iter(stream_audio(encode(tone(3.9), SAMPLE_RATE, "wav"), max_duration_s=3.0, block_s=1.0))
    assert next(blocks).shape[0] >= SAMPLE_RATE  # the first seconds come before the limit is reached
    with pytest.raises(AudioTooLongError, match="3 s limit"):
        list(blocks)
