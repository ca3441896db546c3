"""Stretches a piece's text skipped: found by decoding the stretches alone, and put back in place."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from awaaz.audio import Audio
from awaaz.config import LongFormSettings
from awaaz.longform.coverage import missing_stretches, stretches, with_stretches
from awaaz.longform.pieces import Piece
from awaaz.longform.transcribe import decode_covered
from awaaz.types import SAMPLE_RATE, Segment, TranscribeOptions, Transcription, TranscriptionInfo, Word
from tests.conftest import Clip
from tests.longform.test_transcribe import SentenceEngine, _clips, _find


def test_a_stretch_the_piece_has_no_words_for_is_missing_where_it_belongs() -> None:
    piece = ["राम", "घर", "गया", "सीता", "वन", "गई"]
    spoken = [["राम", "घर", "गया"], ["मोहन", "स्कूल", "आया"], ["सीता", "वन", "गई"]]
    assert missing_stretches(piece, spoken) == [(3, 1)]
    assert missing_stretches(piece[:3], spoken[:2]) == [(3, 1)], "a last sentence left out"
    assert missing_stretches([], spoken) == [(0, 0), (0, 1), (0, 2)]
    ends_alike = [["एक", "पहला", "वाक्य"], ["दो", "दूसरा", "वाक्य"], ["तीन", "तीसरा", "वाक्य"]]
    read = ["एक", "पहला", "वाक्य", "तीन", "तीसरा", "वाक्य"]
    assert missing_stretches(read, ends_alike) == [(3, 1)], "not before the word the sentence before ends on"


def test_a_stretch_read_otherwise_or_too_short_is_not_missing() -> None:
    piece = ["राम", "घर", "गया", "मोहन", "इस्कूल", "आया", "सीता", "वन", "गई"]
    misheard = [["राम", "घर", "गया"], ["मोहल", "स्कूल", "आय"], ["सीता", "वन", "गई"]]
    assert missing_stretches(piece, misheard) == [], "the piece has letters where the stretch was spoken"
    assert missing_stretches(["राम", "घर", "गया", "सीता"], [["राम", "घर", "गया"], ["जी"], ["सीता"]]) == []
    assert missing_stretches(piece, [piece]) == [], "one stretch: nothing to compare"


def _segment(start: float, end: float, text: str, timed: bool = True) -> Segment:
    words = text.split()
    step = (end - start) / len(words)
    times = tuple(Word(start + i * step, start + (i + 1) * step, w, 1.0) for i, w in enumerate(words))
    return Segment(0, start, end, " " + text, words=times if timed else ())


def test_a_put_back_stretch_splits_the_segment_it_falls_in() -> None:
    whole = _segment(0.0, 9.0, "राम घर गया सीता वन गई")
    added = [_segment(3.2, 5.8, "मोहन स्कूल आया")]
    left, middle, right = with_stretches([whole], [(3, added)])
    assert [s.text.split() for s in (left, middle, right)] == [
        ["राम", "घर", "गया"],
        ["मोहन", "स्कूल", "आया"],
        ["सीता", "वन", "गई"],
    ]
    assert (left.start, left.end, right.start, right.end) == (0.0, 3.2, 5.8, 9.0)
    assert [w.word for w in right.words] == ["सीता", "वन", "गई"]
    untimed = with_stretches([_segment(0.0, 9.0, "राम घर गया सीता वन गई", timed=False)], [(3, added)])
    assert untimed[2].words == ()
    end = with_stretches([whole], [(6, added)])
    assert [s.text for s in end] == [whole.text, added[0].text], "after the last word: appended"
    two = [_segment(3.2, 4.4, "मोहन आया"), _segment(4.6, 5.8, "गीता गई")]
    both = with_stretches([whole], [(3, two[:1]), (3, two[1:])])
    assert [s.text.strip() for s in both] == ["राम घर गया", "मोहन आया", "गीता गई", "सीता वन गई"]
    first = _segment(0.0, 4.0, "राम घर गया")
    assert with_stretches([first, whole], [(3, added)]) == [first, *added, whole], "between two segments"


def test_a_piece_is_cut_into_stretches_at_its_pauses(hindi_clips: list[Clip]) -> None:
    audio, where = _clips(hindi_clips, 0.6, 0.6)
    parts = stretches(Piece(16_000, audio), pause_s=0.2, min_s=0.5)
    assert len(parts) >= 3
    assert parts[0].start == 16_000
    assert sum(p.audio.shape[0] for p in parts) == audio.shape[0]
    joins = [16_000 + round((a + b) / 2 * SAMPLE_RATE) for (_, a), (b, _) in itertools.pairwise(where)]
    for join in joins:  # each pause between clips is a cut, within a VAD frame of its middle
        assert min(abs(p.start - join) for p in parts[1:]) <= 0.35 * SAMPLE_RATE
    assert len(stretches(Piece(0, audio), pause_s=0.2, min_s=60.0)) == 1
    assert len(stretches(Piece(0, audio), pause_s=0.0, min_s=0.5)) == 1


@dataclass
class SkippingEngine(SentenceEngine):
    """Writes every sentence mostly in its audio as one segment over all of it, except that with three or
    more it leaves out the second (a voice skipped in a piece that holds several)."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:  # noqa: ARG002
        offset = _find(self.source, audio) / SAMPLE_RATE if self.source is not None else 0.0
        self.calls.append(round(offset, 2))
        end = offset + audio.shape[0] / SAMPLE_RATE
        found = [t for t, a, b in self.sentences if b > offset + 0.3 and a < end - 0.3]
        if len(found) >= 3:
            found = [found[0], *found[2:]]
        info = TranscriptionInfo(language="hi", duration=audio.shape[0] / SAMPLE_RATE)
        text = " " + " ".join(found)
        segments = [Segment(0, 0.0, audio.shape[0] / SAMPLE_RATE, text)] if found else []
        return Transcription(info=info, segments=iter(segments))


@pytest.mark.parametrize("pause_s", [0.2, 0.0])
def test_a_sentence_the_piece_skipped_is_put_back_in_place(hindi_clips: list[Clip], pause_s: float) -> None:
    audio, where = _clips(hindi_clips, 0.6, 0.6)
    texts = ["एक पहला वाक्य", "दो दूसरा वाक्य", "तीन तीसरा वाक्य"]
    engine = SkippingEngine([(t, *w) for t, w in zip(texts, where, strict=True)], 0.0, source=audio)
    settings = LongFormSettings(coverage_pause_s=pause_s, coverage_min_s=0.5, max_splits=0)
    decoded = decode_covered(engine, Piece(0, audio), TranscribeOptions(), settings)
    written = " ".join(s.text.strip() for s in decoded.segments).split()
    if pause_s == 0:  # the check is off: the skipped sentence stays lost, one model call
        assert written == f"{texts[0]} {texts[2]}".split()
        assert engine.calls == [0.0]
        return
    assert written == " ".join(texts).split()
    starts = [s.start for s in decoded.segments]
    assert starts == sorted(starts)
    middle = next(s for s in decoded.segments if s.text.strip() == texts[1])
    assert where[1][0] - 0.4 <= middle.start <= where[1][0] + 0.1
    whole = decode_covered(engine, Piece(0, audio, whole=True), TranscribeOptions(), settings)
    assert len(whole.segments) == 1, "a short recording decoded whole is never checked"


@dataclass
class InventingEngine(SkippingEngine):
    """As :class:`SkippingEngine`, but audio with no sentence in it gets made-up words, as the real model
    writes for a fraction of a word."""

    def transcribe(self, audio: Audio, options: TranscribeOptions) -> Transcription:
        running = super().transcribe(audio, options)
        segments = list(running.segments)
        if not segments:
            segments = [Segment(0, 0.0, audio.shape[0] / SAMPLE_RATE, " एक कहा है")]
        return Transcription(info=running.info, segments=iter(segments))


def test_a_stretch_with_too_little_speech_is_not_read(hindi_clips: list[Clip]) -> None:
    from awaaz.audio import decode_audio
    from awaaz.longform.vad import speech_seconds

    first, second = (decode_audio(c.path) for c in hindi_clips[:2])
    middle = round(0.3 * first.shape[0])
    blip = first[middle : middle + round(0.15 * SAMPLE_RATE)]  # a fraction of a word
    silence = np.zeros(round(0.8 * SAMPLE_RATE), dtype=np.float32)
    audio = np.concatenate([first, silence, blip, silence, second])
    at = first.shape[0] / SAMPLE_RATE
    sentences = [("पहला वाक्य यहाँ", 0.0, at), ("दूसरा वाक्य वहाँ", at + 1.75, audio.shape[0] / SAMPLE_RATE)]
    settings = LongFormSettings(coverage_pause_s=0.2, coverage_min_s=0.5, max_splits=0)
    parts = stretches(Piece(0, audio), settings.coverage_pause_s, settings.coverage_min_s)
    little = [p for p in parts if speech_seconds(p.audio) < settings.recover_min_speech_s]
    assert little, "the blip between two pauses is a stretch of its own"
    engine = InventingEngine(sentences, 0.0, source=audio)
    decoded = decode_covered(engine, Piece(0, audio), TranscribeOptions(), settings)
    assert " ".join(s.text.strip() for s in decoded.segments) == "पहला वाक्य यहाँ दूसरा वाक्य वहाँ"
