"""Training batches: every example once per epoch, similar lengths together, one encoder length a batch."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("torch", reason="the train extra (torch) is not installed: pip install -e '.[train]'")

from awaaz.train.loop import _batches


def test_batches_cover_every_example_once_and_never_mix_groups() -> None:
    rng = random.Random(0)
    lengths = [rng.randrange(5, 200) for _ in range(203)]
    groups = [rng.choice([100, 200, 300, 750]) for _ in range(203)]
    batches = _batches(lengths, 16, random.Random(1), groups)
    flat = sorted(i for batch in batches for i in batch)
    assert flat == list(range(203))
    assert all(len(batch) <= 16 for batch in batches)
    assert all(len({groups[i] for i in batch}) == 1 for batch in batches)


def test_batches_are_seeded() -> None:
    lengths = list(range(50))
    assert _batches(lengths, 8, random.Random(3)) == _batches(lengths, 8, random.Random(3))
    assert _batches(lengths, 8, random.Random(3)) != _batches(lengths, 8, random.Random(4))
