"""Where two voices meet with no pause: the join detector, and pieces cut there rather than in a lull."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import numpy.typing as npt

from awaaz.audio import Audio, decode_audio
from awaaz.config import PieceSettings
from awaaz.longform.joins import FEATURES, HOP, JoinDetector, features, join_points, shipped_detector
from awaaz.longform.pieces import PiecePlanner
from awaaz.longform.vad import FRAME
from awaaz.train.data import find_manifests, load_training_clips, split_dev
from awaaz.types import SAMPLE_RATE
from tests.longform.test_pieces import _blocks

FRAMES_PER_S = SAMPLE_RATE / FRAME


def _speech(seconds: float) -> npt.NDArray[np.float32]:
    """A stand-in VAD's reading of speech that never pauses, with a softer stretch of 0.4 s at 6 s."""
    probability = np.full(int(seconds * FRAMES_PER_S), 0.99, dtype=np.float32)
    lull = int(6 * FRAMES_PER_S)
    probability[lull : lull + 12] = 0.6
    return probability


NO_SENTENCE_PAUSE = PieceSettings(sentence_pause_s=0.0, pad_s=0.0)


def _first_end_s(
    probability: npt.NDArray[np.float32],
    joins: dict[float, float],
    settings: PieceSettings = NO_SENTENCE_PAUSE,
) -> float:
    """Where the first piece ends, given the VAD's reading and the joins found (second: score)."""
    audio = np.full(probability.shape[0] * FRAME, 0.1, dtype=np.float32)

    def found(buffer: Audio) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        inside = {s: p for s, p in joins.items() if s * SAMPLE_RATE < buffer.shape[0]}
        at = np.array([round(s * SAMPLE_RATE) for s in inside], dtype=np.int64)
        return at, np.array(list(inside.values()), dtype=np.float32)

    planner = PiecePlanner(settings, lambda b: probability[: b.shape[0] // FRAME], found)
    first = next(planner.pieces(_blocks(audio)))
    return round((first.start + first.audio.shape[0]) / SAMPLE_RATE, 2)


def test_a_piece_ends_where_two_voices_meet_rather_than_at_a_lull() -> None:
    probability = _speech(25.0)
    assert _first_end_s(probability, {9.6: 0.95}) == 9.6
    assert _first_end_s(probability, {}) == 6.08, "no join: the quietest point, in the lull"
    off = PieceSettings(sentence_pause_s=0.0, pad_s=0.0, cut_at_joins=False)
    assert _first_end_s(probability, {9.6: 0.95}, off) == 6.08


def test_of_several_joins_the_surest_is_cut_at() -> None:
    assert _first_end_s(_speech(25.0), {4.5: 0.91, 8.0: 0.99, 10.0: 0.95}) == 8.0


def test_a_pause_is_cut_in_rather_than_at_a_join() -> None:
    # Read sentences meet across pauses, and a "join" found inside a sentence must not win over them.
    probability = _speech(25.0)
    probability[int(11 * FRAMES_PER_S) : int(11.5 * FRAMES_PER_S)] = 0.0  # half a second's pause at 11 s
    end = _first_end_s(probability, {8.0: 0.99})
    assert 10.9 <= end <= 11.5, end


def test_only_a_sure_join_wins_over_a_lull() -> None:
    # Speech that dips to a lull (averaged 0.15: news between two phrases, or read speech between two
    # sentences with a short pause) and is silent at 11 s.
    probability = _speech(25.0)
    lull = int(6 * FRAMES_PER_S)
    probability[lull : lull + 12] = 0.15
    assert _first_end_s(probability, {9.6: 0.9995}) == 9.6, "a sure join, and the window holds only a lull"
    in_lull = _first_end_s(probability, {})
    assert 6.0 - 0.1 <= in_lull <= 6.4, in_lull
    assert _first_end_s(probability, {9.6: 0.95}) == in_lull, "a join, but not sure enough: the lull"
    sure_at = PieceSettings(sentence_pause_s=0.0, pad_s=0.0, sure_join_threshold=0.9)
    assert _first_end_s(probability, {9.6: 0.95}, sure_at) == 9.6
    lulls_win = PieceSettings(sentence_pause_s=0.0, pad_s=0.0, quiet_level=0.25)
    assert _first_end_s(probability, {9.6: 0.9995}, lulls_win) == in_lull
    probability[lull : lull + 12] = 0.02  # silence, not a lull: cut in whatever the joins
    assert _first_end_s(probability, {9.6: 0.9995}) == in_lull


def test_the_edge_of_a_pause_is_no_join() -> None:
    # Where sound stops, the detector scores a join; 6 silent frames within 8 of it make it a pause's edge.
    probability = _speech(25.0)
    edge = int(9 * FRAMES_PER_S)
    probability[edge : edge + 6] = 0.3  # under the silence threshold, but not on average over 7 frames
    assert _first_end_s(probability, {9.0: 0.99, 7.04: 0.92}) == 7.04


def test_a_detector_of_ones_own_is_used_when_set(tmp_path: Path) -> None:
    # Weights made to score every hop as a join, and none: the planner cuts where the set detector says.
    shipped = shipped_detector()
    weight, bias = shipped.layers[-1]
    for name, shift in (("always", 1000.0), ("never", -1000.0)):
        layers = (*shipped.layers[:-1], (weight, bias + shift))
        JoinDetector(shipped.mean, shipped.scale, layers).save(tmp_path / f"{name}.npz")
    probability = _speech(25.0)
    audio = np.random.default_rng(2).normal(0, 0.1, probability.shape[0] * FRAME).astype(np.float32)

    def first_end_s(weights: str) -> float:
        settings = NO_SENTENCE_PAUSE.model_copy(update={"join_detector": tmp_path / weights})
        planner = PiecePlanner(settings, lambda b: probability[: b.shape[0] // FRAME])
        first = next(planner.pieces(_blocks(audio)))
        return round((first.start + first.audio.shape[0]) / SAMPLE_RATE, 2)

    assert first_end_s("never.npz") == 6.08, "no join anywhere: the lull"
    assert first_end_s("always.npz") < 6.0, "a join at every hop: the first the window allows"


def test_the_detector_scores_every_hop_and_saves_and_loads_alike(tmp_path: Path) -> None:
    audio = np.random.default_rng(0).normal(0, 0.1, 3 * SAMPLE_RATE).astype(np.float32)
    table = features(audio)
    assert table.shape == ((audio.shape[0] - 400) // HOP + 1, FEATURES)
    detector = shipped_detector()
    scores = detector.scores(audio)
    assert scores.shape == (table.shape[0],)
    assert np.all((scores >= 0) & (scores <= 1))
    detector.save(tmp_path / "weights.npz")
    again = JoinDetector.load(tmp_path / "weights.npz")
    np.testing.assert_array_equal(again.scores(audio), scores)
    assert join_points(np.zeros(100, dtype=np.float32), 0.9)[0].size == 0, "shorter than one window"


def test_a_join_found_is_the_best_within_a_quarter_second() -> None:
    audio = np.random.default_rng(1).normal(0, 0.1, 5 * SAMPLE_RATE).astype(np.float32)
    at, score = join_points(audio, 0.0)
    assert np.all(np.diff(at) > 25 * HOP)
    assert np.all(score >= 0.0)
    strict = join_points(audio, 0.99)[0]
    assert set(strict) <= set(at)


def test_the_joins_of_held_out_news_clips_are_found_to_the_hop(shared_data: Path) -> None:
    # Dev news clips (never trained on) joined end to end in random orders, as eval_news is.
    _, dev = split_dev(load_training_clips(find_manifests(shared_data)), seed=0)
    news = [c for c in dev if c.source == "ai4bharat_noa"]
    found = total = false = 0
    for seed in range(3):
        order = news[:]
        random.Random(seed).shuffle(order)
        audios = [decode_audio(c.audio) for c in order]
        joins = np.cumsum([a.shape[0] for a in audios])[:-1]
        at, _ = join_points(np.concatenate(audios), 0.9)
        total += joins.shape[0]
        found += sum(bool(np.any(np.abs(at - j) <= 2 * HOP)) for j in joins)
        false += sum(not np.any(np.abs(joins - a) <= 25 * HOP) for a in at)
    assert found >= 0.7 * total, (found, total)
    assert false <= 2 * total, (false, total)
