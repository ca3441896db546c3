"""Subtitle cues: limits on duration, characters and lines; text regrouped, never changed."""

from __future__ import annotations

import itertools

import pytest

from awaaz.config import CueSettings
from awaaz.longform.cues import split_cues, wrap_lines
from awaaz.types import Segment, Word

SETTINGS = CueSettings()
WORDS = [
    "यह",
    "एक",
    "बहुत",
    "लंबा",
    "वाक्य",
    "है",
    "जिसे",
    "कई",
    "हिस्सों",
    "में",
    "तोड़ना",
    "होगा",
    "ताकि",
    "पढ़ने",
    "वाले",
    "को",
    "आसानी",
    "हो",
    "और",
    "समय",
    "भी",
    "ठीक",
    "रहे",
]


def _timed(
    words: list[str], start: float = 0.0, step: float = 0.5, pause_after: int | None = None
) -> Segment:
    timed, t = [], start
    for i, word in enumerate(words):
        timed.append(Word(start=t, end=t + step * 0.8, word=" " + word, probability=0.9))
        t += step + (1.0 if i == pause_after else 0.0)
    return Segment(id=0, start=start, end=t, text=" ".join(words), words=tuple(timed), tokens=(1, 2, 3))


def _check_limits(cues: list[Segment], settings: CueSettings = SETTINGS) -> None:
    for cue in cues:
        assert cue.end - cue.start <= settings.max_s + 1e-6, cue
        assert len(cue.text) <= settings.max_chars, cue
        for line in wrap_lines(cue.text, settings).split("\n"):
            assert len(line) <= settings.line_chars, line
        assert wrap_lines(cue.text, settings).count("\n") < settings.lines


def test_a_short_segment_is_kept_as_it_is() -> None:
    segment = _timed(WORDS[:4])
    assert list(split_cues([segment], SETTINGS)) == [segment]


def test_a_long_segment_is_cut_at_word_times_within_the_limits() -> None:
    segment = _timed(WORDS)  # 24 words, 12 s, 110 characters
    cues = list(split_cues([segment], SETTINGS))
    assert len(cues) >= 2
    _check_limits(cues)
    assert " ".join(c.text for c in cues) == segment.text
    assert cues[0].start == segment.words[0].start
    assert cues[-1].end == segment.words[-1].end
    for cue in cues:  # each cue keeps its own words, and its times are theirs
        assert cue.words
        assert cue.text == " ".join(w.word.strip() for w in cue.words)
        assert cue.words[0].start >= cue.start - 1e-6
        assert cue.words[-1].end <= cue.end + 1e-6
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(cues))


def test_cues_end_at_a_pause_when_there_is_one() -> None:
    segment = _timed(WORDS, pause_after=8)  # a 1 s pause after the 9th word
    cues = list(split_cues([segment], CueSettings(max_s=30.0)))
    assert cues[0].text == " ".join(WORDS[:9])


def test_without_word_times_the_cut_is_interpolated_and_the_limits_hold() -> None:
    segment = Segment(id=3, start=40.0, end=60.0, text=" ".join(WORDS))
    cues = list(split_cues([segment], SETTINGS))
    _check_limits(cues)
    assert " ".join(c.text for c in cues) == segment.text
    assert cues[0].start == 40.0
    assert cues[-1].end == 60.0
    assert [c.start for c in cues] == sorted(c.start for c in cues)


def test_a_slow_speaker_is_cut_by_duration() -> None:
    segment = _timed(WORDS[:6], step=2.0)  # 6 short words over 12 s
    cues = list(split_cues([segment], SETTINGS))
    assert len(cues) >= 2
    _check_limits(cues)


@pytest.mark.parametrize("lines", [1, 2, 3])
def test_wrapping_uses_at_most_the_allowed_lines(lines: int) -> None:
    settings = CueSettings(lines=lines)
    text = " ".join(WORDS)[: settings.max_chars].rsplit(" ", 1)[0]
    wrapped = wrap_lines(text, settings)
    assert wrapped.replace("\n", " ") == text
    assert wrapped.count("\n") < lines
    if lines > 1:
        assert all(len(line) <= settings.line_chars for line in wrapped.split("\n"))
