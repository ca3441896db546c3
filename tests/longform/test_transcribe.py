"""The long-form driver with scripted engines: recovery of early-ended text, order, timing, stopping."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from awaaz.audio import Audio, decode_audio
from awaaz.config import LongFormSettings
from awaaz.errors import TranscriptionTimeoutError
from awaaz.longform.pieces import Piece
from awaaz.longform.transcribe import _without_words, decode_piece, ordered_map, transcribe_long
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo, Word
from tests.conftest import Clip
from tests.fakes import FakeEngine, NamingEngine


@dataclass
class SentenceEngine(FakeEngine):
    """Knows a piece's sentences (text, start, end in the piece); like the real model, it writes the first
    sentence that lies (mostly) in the audio it is given and stops there."""

    sentences: list[tuple[str, float, float]]
    piece_s: float
    source: Audio | None = None
    """The whole piece, to find any part of it in (else the audio given is taken to be its end)."""
    calls: list[float] = field(default_factory=list)
    options: list[TranscribeOptions] = field(default_factory=list)
    model_id: str = "sentences"

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        offset = self.piece_s - audio.shape[0] / SAMPLE_RATE
        if self.source is not None:
            offset = _find(self.source, audio) / SAMPLE_RATE
        self.calls.append(round(offset, 2))
        self.options.append(options)
        found = [(t, a, b) for t, a, b in self.sentences if b > offset + 0.3]  # mostly in the audio
        segments = [
            Segment(0, max(0.0, a - offset), b - offset, t, words=(Word(a - offset, b - offset, t, 1.0),))
            for t, a, b in found[:1]
        ]
        info = TranscriptionInfo(language=options.language or "hi", duration=audio.shape[0] / SAMPLE_RATE)
        return Transcription(info=info, segments=iter(segments))


def _find(source: Audio, part: Audio) -> int:
    """Where ``part`` starts in ``source`` (matched from its first sound on: silence is everywhere)."""
    first = int(np.flatnonzero(part)[0])
    for at in np.flatnonzero(source == part[first]):
        start = int(at) - first
        if start >= 0 and np.array_equal(source[start : start + part.shape[0]], part):
            return start
    raise AssertionError("not a part of the source")


RECOVERY_ONLY = LongFormSettings(max_splits=0)
"""The scripted sentences are one word each, far sparser than speech: no halving in the recovery tests."""


def _clips(hindi_clips: list[Clip], *gaps: float) -> tuple[Audio, list[tuple[float, float]]]:
    """The first clips joined with the given silences between them, and where each clip is (s)."""
    parts, where, at = [], [], 0.0
    for clip, gap in zip(hindi_clips, (0.0, *gaps), strict=False):
        silence = np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32)
        audio = decode_audio(clip.path)
        at += gap
        where.append((at, at + audio.shape[0] / SAMPLE_RATE))
        at += audio.shape[0] / SAMPLE_RATE
        parts += [silence, audio]
    return np.concatenate(parts), where


def test_text_that_ends_while_speech_goes_on_is_decoded_again_from_there(hindi_clips: list[Clip]) -> None:
    audio, where = _clips(hindi_clips, 0.0, 0.0)  # three clips back to back, no pause
    engine = SentenceEngine(
        [("एक", *where[0]), ("दो", *where[1]), ("तीन", *where[2])], audio.shape[0] / SAMPLE_RATE
    )
    decoded = decode_piece(engine, Piece(16_000 * 30, audio), TranscribeOptions(), RECOVERY_ONLY)
    assert [s.text for s in decoded.segments] == ["एक", "दो", "तीन"]
    assert decoded.recoveries == 2
    assert engine.calls == [0.0, round(where[0][1], 2), round(where[1][1], 2)]
    for segment, (start, end) in zip(decoded.segments, where, strict=True):  # moved to the stream's time
        assert segment.start == pytest.approx(30 + start, abs=0.01)
        assert segment.end == pytest.approx(30 + end, abs=0.01)


def test_silence_after_the_text_is_not_decoded_again(hindi_clips: list[Clip]) -> None:
    audio, where = _clips(hindi_clips[:1])
    audio = np.concatenate([audio, np.zeros(4 * SAMPLE_RATE, dtype=np.float32)])
    engine = SentenceEngine([("एक", *where[0])], audio.shape[0] / SAMPLE_RATE)
    decoded = decode_piece(engine, Piece(0, audio), TranscribeOptions(), RECOVERY_ONLY)
    assert [s.text for s in decoded.segments] == ["एक"]
    assert engine.calls == [0.0]


def test_recoveries_are_bounded(hindi_clips: list[Clip]) -> None:
    audio, _ = _clips(hindi_clips, 0.0, 0.0, 0.0)
    length = audio.shape[0] / SAMPLE_RATE
    # A sentence every 0.3 s: each pass moves on a little, and the bound stops it.
    engine = SentenceEngine([(f"w{i}", 0.3 * i, 0.3 * i + 0.3) for i in range(int(length / 0.3))], length)
    decoded = decode_piece(
        engine, Piece(0, audio), TranscribeOptions(), LongFormSettings(max_recoveries=3, max_splits=0)
    )
    assert len(engine.calls) == 4
    assert decoded.recoveries == 3


@dataclass
class EarlyStampEngine(FakeEngine):
    """Writes ``passes[i]`` on its i-th call, each stamped as ending 1.5 s in: the text went on past its
    timestamp, so the next pass starts inside text already written."""

    passes: list[list[str]] = field(default_factory=list)
    calls: int = 0

    def answer(self, audio: Audio, options: TranscribeOptions) -> list[Segment]:  # noqa: ARG002
        texts = self.passes[min(self.calls, len(self.passes) - 1)]
        self.calls += 1
        words = tuple(Word(0.1 * i, 0.1 * i + 0.1, " " + w, 1.0) for i, w in enumerate(texts[-1].split()))
        return [Segment(0, 0.0, 1.0, " " + texts[0])] + [
            Segment(1, 1.0, 1.5, " " + text, words=words if text == texts[-1] else ()) for text in texts[1:]
        ]


def _recovered(hindi_clips: list[Clip], passes: list[list[str]]) -> list[str]:
    audio, _ = _clips(hindi_clips, 0.0, 0.0)  # speech all along: every early end is re-decoded
    engine = EarlyStampEngine(passes=passes)
    settings = LongFormSettings(max_splits=0, max_recoveries=1)
    return [
        s.text.strip() for s in decode_piece(engine, Piece(0, audio), TranscribeOptions(), settings).segments
    ]


def test_a_recovered_pass_that_repeats_the_last_words_keeps_only_what_is_new(hindi_clips: list[Clip]) -> None:
    first = ["एक दो तीन", "चार पाँच छह।"]
    # a word misheard at the cut, then the previous pass's last five words again, then new text
    assert _recovered(hindi_clips, [first, ["गलत दो तीन", "चार पाँच छह सात आठ"]]) == [*first, "सात आठ"]
    assert _recovered(hindi_clips, [first, ["दो तीन चार पाँच छह।"]]) == first  # nothing new: dropped


def test_a_recovered_pass_that_repeats_fewer_words_or_late_is_kept(hindi_clips: list[Clip]) -> None:
    first = ["एक दो तीन", "चार पाँच छह"]
    three = ["चार पाँच छह सात"]  # three words again: could be speech
    assert _recovered(hindi_clips, [first, three]) == [*first, *three]
    late = ["क ख ग घ ङ च छ ज झ", "तीन चार पाँच छह"]  # past the eighth word: not the cut's echo
    assert _recovered(hindi_clips, [first, late]) == [*first, *late]


def test_a_recovered_pass_that_tells_the_whole_pass_again_in_other_spellings_is_dropped(
    hindi_clips: list[Clip],
) -> None:
    # The first pass wrote the whole piece but stamped its end early; the re-decode from that stamp
    # writes the piece again, a few words spelt otherwise (as a Hindi-vocabulary model did on train news).
    first = ["और आतंकवाद के मुद्दे पत्र बात की करेंगे", "श्री मोदी की सही अरब की यह दूसरी यात्रा है"]
    again = ["दिन बाद के मुद्दे पर बात की करेंगे", "श्री मोदी की सऊदी अरब की यह दूसरी यात्रा है"]
    assert _recovered(hindi_clips, [first, again]) == first
    # the early stamp was wrong: the first pass's text lasted as long as its retelling, and says so
    audio, _ = _clips(hindi_clips, 0.0, 0.0)
    settings = LongFormSettings(max_splits=0, max_recoveries=1)
    engine = EarlyStampEngine(passes=[first, again])
    segments = decode_piece(engine, Piece(0, audio), TranscribeOptions(), settings).segments
    assert segments[-1].end == pytest.approx(1.5 + 1.5)  # the retelling ran from 1.5 s to 1.5 s after
    # ... and what it adds after the repeat is kept
    more = [again[0], again[1] + " जिसमें दोनों देश"]
    assert _recovered(hindi_clips, [first, more]) == [*first, "जिसमें दोनों देश"]


def test_a_recovered_pass_that_shares_only_scattered_words_is_kept(hindi_clips: list[Clip]) -> None:
    first = ["सरकार ने आज कहा कि किसानों को", "नई योजना का लाभ मिलेगा"]
    # common words of the same topic, not a retelling: fewer than half the stretch is the same
    other = ["राज्य में आज बारिश के कारण किसानों की फसल को", "भारी नुकसान हुआ और लाभ नहीं मिलेगा"]
    assert _recovered(hindi_clips, [first, other]) == [*first, *other]


def test_trimming_a_segment_keeps_the_times_of_its_remaining_words(hindi_clips: list[Clip]) -> None:
    audio, _ = _clips(hindi_clips, 0.0, 0.0)
    engine = EarlyStampEngine(passes=[["एक दो", "तीन चार"], ["x", "एक दो तीन चार पाँच"]])
    settings = LongFormSettings(max_splits=0, max_recoveries=1)
    segments = decode_piece(engine, Piece(0, audio), TranscribeOptions(), settings).segments
    assert [s.text.strip() for s in segments] == ["एक दो", "तीन चार", "पाँच"]
    assert [w.word.strip() for w in segments[-1].words] == ["पाँच"]
    assert segments[-1].start == segments[-1].words[0].start == pytest.approx(1.5 + 0.4)
    # word times that do not line up with the text's words: which belong to the dropped words is
    # unknown, so none are kept rather than wrong ones
    glued = Segment(
        0, 0.0, 1.0, " तीन चार पाँच", words=(Word(0.0, 0.6, " तीनचार", 1.0), Word(0.6, 1.0, " पाँच", 1.0))
    )
    assert _without_words([glued], 2) == [dataclasses.replace(glued, text=" पाँच", words=())]


def test_segments_come_in_order_with_ids_and_the_true_duration(hindi_clips: list[Clip]) -> None:
    audio, where = _clips(hindi_clips, 2.0, 2.0, 2.0, 2.0, 2.0)  # about 26 s: cut into pieces

    class ClipEngine(FakeEngine):
        def answer(self, piece: Audio, _: TranscribeOptions) -> list[Segment]:
            length = piece.shape[0] / SAMPLE_RATE
            return [Segment(0, 0.0, length, f"{length:.2f}")]

    blocks = (audio[i : i + SAMPLE_RATE] for i in range(0, audio.shape[0], SAMPLE_RATE))
    running = transcribe_long(
        ClipEngine(), blocks, TranscribeOptions(), LongFormSettings(), duration_hint=99, workers=2
    )
    assert running.info.duration == 99
    result = running.collect()
    assert result.info.duration == pytest.approx(audio.shape[0] / SAMPLE_RATE)
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    assert len(result.segments) >= 2
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    for start, end in where:  # the middle of every clip is inside some segment's span
        assert any(s.start <= (start + end) / 2 <= s.end for s in result.segments)


def test_a_long_recording_goes_to_the_piece_engine_and_a_clip_stays_on_the_engine(
    hindi_clips: list[Clip],
) -> None:
    clips, pieces = NamingEngine("clips"), NamingEngine("pieces")
    asked: list[int] = []

    def piece_engine() -> NamingEngine:
        asked.append(1)
        return pieces

    clip = decode_audio(hindi_clips[0].path)
    result = transcribe_long(
        clips, [clip], TranscribeOptions(), LongFormSettings(), piece_engine=piece_engine
    ).collect()
    assert (result.text, result.info.model, asked, pieces.calls) == ("clips", "clips", [], 0)

    audio, _ = _clips(hindi_clips, 2.0, 2.0, 2.0, 2.0, 2.0)  # about 26 s: cut into pieces
    calls_before = clips.calls
    result = transcribe_long(
        clips, [audio], TranscribeOptions(), LongFormSettings(), workers=2, piece_engine=piece_engine
    ).collect()
    assert {s.text for s in result.segments} == {"pieces"}
    assert len(result.segments) >= 2
    assert asked == [1]  # asked for once, however many pieces
    assert clips.calls == calls_before
    assert result.info.model == "pieces"


def test_ordered_map_keeps_order_and_reads_ahead_only_as_far_as_the_workers() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10):
            taken.append(i)
            yield i

    def slow(i: int) -> int:
        time.sleep(0.01 * (i % 3))
        return i * i

    results = ordered_map(slow, items(), workers=3)
    assert next(results) == 0
    assert len(taken) <= 3
    assert list(results) == [i * i for i in range(1, 10)]


def test_stopping_ends_the_work_before_the_next_model_call(hindi_clips: list[Clip]) -> None:
    audio, where = _clips(hindi_clips, 0.0, 0.0)
    engine = SentenceEngine(
        [("एक", *where[0]), ("दो", *where[1]), ("तीन", *where[2])], audio.shape[0] / SAMPLE_RATE
    )
    stop = threading.Event()
    running = transcribe_long(
        engine, [audio], TranscribeOptions(), LongFormSettings(), should_stop=stop.is_set
    )
    stop.set()
    with pytest.raises(TranscriptionTimeoutError):
        next(running.segments)
    assert engine.calls == []


@dataclass
class FalseEndEngine(SentenceEngine):
    """Writes only the first sentence in its audio, but claims it lasts to the end of the audio."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        running = super().transcribe(audio, options)
        end = audio.shape[0] / SAMPLE_RATE
        segments = [dataclasses.replace(s, end=end, words=()) for s in running.segments]
        return Transcription(info=running.info, segments=iter(segments))


def test_a_piece_whose_text_is_too_sparse_is_halved_until_every_sentence_is_found(
    hindi_clips: list[Clip],
) -> None:
    audio, where = _clips(hindi_clips, 0.5, 0.5, 0.5)  # four clips, 12 s
    texts = ["एक एक एक", "दो दो दो", "तीन तीन तीन", "चार चार चार"]  # 3 words a clip: too sparse
    sentences = [(t, *w) for t, w in zip(texts, where, strict=True)]
    engine = FalseEndEngine(sentences, audio.shape[0] / SAMPLE_RATE, source=audio)
    settings = LongFormSettings(min_checked_speech_s=1.0, max_splits=3)  # the fixture clips are short
    decoded = decode_piece(engine, Piece(0, audio), TranscribeOptions(), settings)
    assert [s.text for s in decoded.segments] == texts
    starts = [s.start for s in decoded.segments]
    assert starts == sorted(starts)
    whole = FalseEndEngine(sentences, audio.shape[0] / SAMPLE_RATE, source=audio)
    decoded = decode_piece(whole, Piece(0, audio, whole=True), TranscribeOptions(), settings)
    assert [s.text for s in decoded.segments] == texts[:1]  # a short recording decodes exactly as a clip
    assert len(whole.calls) == 1
