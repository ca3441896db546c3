"""Train the join detector of :mod:`awaaz.longform.joins` on train-split clips; dev clips are never used.

``python -m awaaz.train.joins ../shared/data OUT.npz [--seed 0]``

Train news clips (one broadcast each) are shuffled into chains of 20 and joined end to end, three times
with different orders: the hop of each join and one either side are joins, every fourth hop more than 8
hops from any join is not. Read prose and Common Voice clips, joined the same way, add only hops that are
not joins (their clips meet across a pause, which the planner cuts in anyway; a change of sentence or of
level inside read speech is no join). A network of two hidden layers (64, 32, ReLU) learns from them (30
epochs of Adam, lr 1e-3, batches of 1,024, positives weighted up to balance), about 25 s on 2 cores.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from awaaz.audio import Audio, decode_audio
from awaaz.longform.joins import HOP, JoinDetector, features
from awaaz.train.data import Clip, find_manifests, load_training_clips, split_dev

CHAIN = 20
"""Clips joined into one recording."""
NEAR = 8
"""Hops on either side of a join that are neither joins nor taken as not."""


def _chains(clips: Sequence[Clip], seed: int) -> Iterator[tuple[Audio, npt.NDArray[np.int64]]]:
    order = list(clips)
    random.Random(seed).shuffle(order)
    for first in range(0, len(order) - 1, CHAIN):
        audios = [decode_audio(c.audio) for c in order[first : first + CHAIN]]
        if len(audios) > 1:
            yield np.concatenate(audios), np.cumsum([a.shape[0] for a in audios])[:-1] // HOP


def examples(
    clips: Sequence[Clip], seeds: Sequence[int], *, joins: bool, every: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Features and labels (1: a join) of ``clips`` joined in chains, once per seed; with ``joins``
    False the joins and their neighbours are left out and every hop taken is a 0."""
    inputs, labels = [], []
    for seed in seeds:
        for audio, at in _chains(clips, seed):
            table = features(audio)
            label = np.zeros(table.shape[0], dtype=bool)
            near = np.zeros(table.shape[0], dtype=bool)
            for hop in at:
                label[max(0, hop - 1) : hop + 2] = True
                near[max(0, hop - NEAR) : hop + NEAR + 1] = True
            negative = np.flatnonzero(~near)[::every]
            positive = np.flatnonzero(label) if joins else np.zeros(0, dtype=np.int64)
            inputs += [table[positive], table[negative]]
            labels += [np.ones(positive.size), np.zeros(negative.size)]
    return np.vstack(inputs), np.concatenate(labels).astype(np.float32)


def train(data_dir: Path, seed: int = 0, leave_out: Collection[str] = ()) -> JoinDetector:
    """A detector trained on the train split of ``data_dir`` (the dev clips of :func:`split_dev` left out),
    without the news clips of the broadcasts (clip groups) in ``leave_out``, kept to measure it on."""
    import torch

    torch.manual_seed(seed)
    train_clips, _ = split_dev(load_training_clips(find_manifests(data_dir)), seed=0)
    real = [c for c in train_clips if not c.synthetic and c.speed == 1.0]
    news = [c for c in real if c.source == "ai4bharat_noa" and c.group not in leave_out]
    read = [c for c in real if c.source in ("ohmvikrant", "cv_hi_sample")][:300]
    x_news, y_news = examples(news, [seed + 1, seed + 2, seed + 3], joins=True, every=4)
    x_read, y_read = examples(read, [seed + 4], joins=False, every=8)
    x, y = np.vstack([x_news, x_read]), np.concatenate([y_news, y_read])
    mean, scale = x.mean(0), x.std(0) + 1e-6
    inputs, targets = torch.tensor((x - mean) / scale), torch.tensor(y)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 1),
    )
    optimiser = torch.optim.Adam(net.parameters(), 1e-3)
    weight = torch.tensor((1 - y.mean()) / y.mean())
    for _ in range(30):
        order = torch.randperm(inputs.shape[0])
        for first in range(0, inputs.shape[0], 1024):
            batch = order[first : first + 1024]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(inputs[batch]).squeeze(1), targets[batch], pos_weight=weight
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    dense = [m for m in net if isinstance(m, torch.nn.Linear)]
    layers = tuple(
        (m.weight.detach().numpy().T.astype(np.float32), m.bias.detach().numpy().astype(np.float32))
        for m in dense
    )
    return JoinDetector(mean.astype(np.float32), scale.astype(np.float32), layers)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("out", type=Path, help="where to write the weights (.npz)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train(args.data, args.seed).save(args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
