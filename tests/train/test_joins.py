"""Training data for the join detector: chains of clips joined end to end, labelled at the joins."""

from __future__ import annotations

from awaaz.audio import decode_audio
from awaaz.longform.joins import FEATURES, HOP
from awaaz.train.data import Clip
from awaaz.train.joins import NEAR, examples
from tests.conftest import Clip as Fixture


def _clips(hindi_clips: list[Fixture]) -> list[Clip]:
    return [Clip(c.path, c.text, 0.0, "ai4bharat_noa", str(i)) for i, c in enumerate(hindi_clips)]


def test_the_hops_at_each_join_are_joins_and_those_near_one_are_left_out(hindi_clips: list[Fixture]) -> None:
    clips = _clips(hindi_clips)
    inputs, labels = examples(clips, [0], joins=True, every=1)
    samples = sum(decode_audio(c.audio).shape[0] for c in clips)
    hops = (samples - 400) // HOP + 1  # the chain's hops (the fixture clips make one chain)
    joins = len(clips) - 1
    assert inputs.shape == (labels.shape[0], FEATURES)
    assert int(labels.sum()) == 3 * joins, "the join's hop and one either side"
    assert labels.shape[0] - 3 * joins == hops - joins * (2 * NEAR + 1), "every hop far from a join"
    unlabelled, _ = examples(clips, [0], joins=False, every=1)
    assert unlabelled.shape[0] == labels.shape[0] - 3 * joins, "read speech: only hops far from a join"
