"""Joined examples: clips played back to back, with one timestamped segment per clip in their labels."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from awaaz.audio import decode_audio
from awaaz.train.augment import load_clip_audio, with_speed_copies
from awaaz.train.data import Clip, join_clips, joined_examples

SOURCES = ("news", "prose")


def _clip(source: str, group: str, i: int, seconds: float = 4.0) -> Clip:
    return Clip(
        audio=Path(f"/x/{source}/{group}/{i}.flac"),
        text=f"{source} {group} {i}",
        duration_s=seconds,
        source=source,
        group=group,
    )


def test_a_joined_example_holds_its_clips_text_and_length_and_a_key_of_its_own() -> None:
    first, second = _clip("news", "b1", 1, 3.0), _clip("news", "b2", 2, 5.0)
    joined = join_clips([first, second])
    assert joined.parts == (first, second)
    assert joined.text == "news b1 1 news b2 2"
    assert joined.duration_s == pytest.approx(8.0)
    assert joined.key not in {first.key, second.key}
    assert first.parts == (first,)
    with pytest.raises(ValueError, match="two or more"):
        join_clips([first])
    with pytest.raises(ValueError, match="speed copies"):
        join_clips([first, with_speed_copies([second], [1.1])[1]])


def test_joined_examples_mix_groups_of_one_source_within_the_length_limit() -> None:
    clips = [
        _clip(s, f"g{g}", i, 2.0 + i % 5) for s in (*SOURCES, "digits") for g in range(6) for i in range(5)
    ]
    examples = joined_examples(clips, 200, 12.0, seed=1, sources=SOURCES)
    assert len(examples) == 200
    for example in examples:
        assert len({p.source for p in example.parts}) == 1
        assert example.source in SOURCES
        assert len({p.group for p in example.parts}) == len(example.parts) in {2, 3}
        assert example.duration_s <= 12.0
    assert set(Counter(len(e.parts) for e in examples)) == {2, 3}
    assert [e.key for e in joined_examples(clips, 20, 12.0, 1, SOURCES)] == [e.key for e in examples[:20]]
    assert [e.key for e in joined_examples(clips, 20, 12.0, 2, SOURCES)] != [e.key for e in examples[:20]]
    assert joined_examples(clips, 5, 12.0, 1, ["words"]) == []
    assert joined_examples(clips, 0, 12.0, 1, SOURCES) == []


def test_a_joined_example_plays_its_clips_back_to_back(train_clips: list[Clip]) -> None:
    joined = join_clips(train_clips[:2])
    audio = load_clip_audio(joined)
    expected = np.concatenate([decode_audio(c.audio) for c in train_clips[:2]])
    np.testing.assert_array_equal(audio, expected)
    faster = with_speed_copies([joined], [1.25])[1]
    assert len(load_clip_audio(faster)) == pytest.approx(len(expected) / 1.25, abs=200)


def test_labels_of_a_joined_example_have_one_segment_per_clip(
    default_model_path: Path, train_clips: list[Clip], tmp_path: Path
) -> None:
    from awaaz.train.loop import TIMESTAMP_STEP_S, Trainer
    from tests.train.conftest import smoke_config

    trainer = Trainer(default_model_path, tmp_path / "run", smoke_config(), None)
    t = trainer.tokens.t
    first, second = train_clips[:2]
    joined = with_speed_copies([join_clips([first, second])], [1.25])[1]
    segments = trainer._segments(joined)
    assert [ids for ids, _ in segments] == [trainer.tokens.text_ids(c.text) for c in (first, second)]
    ends = [first.duration_s / 1.25, (first.duration_s + second.duration_s) / 1.25]
    assert [end for _, end in segments] == pytest.approx(ends)
    sequence, given = trainer.tokens.segmented(segments)
    middle = t.timestamp_begin + round(ends[0] / TIMESTAMP_STEP_S)
    n = len(segments[0][0])
    assert sequence[:4] == [t.sot, t.lang, t.transcribe, t.timestamp_begin]
    assert sequence[4 + n : 6 + n] == [middle, middle], "the second segment starts where the first ends"
    assert sequence[-2:] == [t.timestamp_begin + round(ends[1] / TIMESTAMP_STEP_S), t.eot]
    assert given == 2
    assert trainer.tokens.decode(sequence) == f"{first.text} {second.text}"


def test_tight_joins_cut_each_clip_to_its_speech_and_a_short_pause(train_clips: list[Clip]) -> None:
    from awaaz.longform.vad import speech_bounds
    from awaaz.train.augment import MIN_KEPT_SILENCE_S, with_tight_joins
    from awaaz.types import SAMPLE_RATE

    loose = join_clips(train_clips[:3])
    single = train_clips[3]
    tight, unchanged = with_tight_joins([loose, single], max_pause_s=0.6, seed=4)
    assert unchanged == single, "a clip that is not joined keeps all of its audio"
    assert tight.text == loose.text
    assert tight.key != loose.key
    assert tight.duration_s < loose.duration_s - 0.3, "the recorded silence around the speech is cut"
    audio = load_clip_audio(tight)
    assert len(audio) == pytest.approx(tight.duration_s * SAMPLE_RATE, abs=2)
    assert tight.duration_s == pytest.approx(sum(p.duration_s for p in tight.parts))
    for part, original in zip(tight.parts, loose.parts, strict=True):
        recorded = decode_audio(original.audio)
        first, last = speech_bounds(recorded) or (0, len(recorded))
        assert part.span is not None
        start, end = part.span
        assert start * SAMPLE_RATE <= first, "all of the speech is kept"
        assert end * SAMPLE_RATE >= last, "all of the speech is kept"
        kept = (first / SAMPLE_RATE - start, end - last / SAMPLE_RATE)
        recorded_silence = (first / SAMPLE_RATE, (len(recorded) - last) / SAMPLE_RATE)
        for silence, available in zip(kept, recorded_silence, strict=True):
            assert silence <= 0.3 + 1e-3, "at most half the longest pause on each side"
            assert silence >= min(MIN_KEPT_SILENCE_S, available) - 1e-3
    again = with_tight_joins([loose], max_pause_s=0.6, seed=4)[0]
    assert again.key == tight.key, "the pauses are drawn from the seed"
    assert with_tight_joins([loose], max_pause_s=0.6, seed=5)[0].key != tight.key


def test_a_clip_without_speech_is_joined_whole(tmp_path: Path, train_clips: list[Clip]) -> None:
    import soundfile as sf

    from awaaz.train.augment import with_tight_joins

    path = tmp_path / "quiet.flac"
    sf.write(path, np.zeros(16_000, dtype=np.float32), 16_000)
    quiet = Clip(audio=path, text="", duration_s=1.0, source="news", group="quiet")
    tight = with_tight_joins([join_clips([quiet, train_clips[0]])], 0.6, seed=0)[0]
    assert tight.parts[0] == quiet
    assert tight.parts[1].span is not None
