"""Long recordings, measured as a user meets them: accuracy through the HTTP API and the CLI, and peak
memory against duration.

``python bench/longform.py accuracy [--split eval_news --split eval_stories] [--minutes 0 2]``
    Joins a split's clips (manifest order) into FLAC recordings of about MINUTES each (0: the whole split
    as one file), sends each to a fresh ``awaaz serve`` (``POST /v1/audio/transcriptions``) and to
    ``awaaz transcribe``, and scores the transcripts against the clips' references joined. The sync
    duration limit is raised for the server only when a file is longer than it (the whole-split files are
    10-11 min against the 600 s default); every other setting is the default.

``python bench/longform.py memory [--minutes 10 60]``
    Writes recordings of real speech (train and eval clips, repeated to reach the length; the committed
    fixtures where ../shared is absent) and reports the peak RSS and RTF of ``awaaz transcribe`` on each.

``python bench/longform.py jobs [--minutes 10 60 240]``
    The same recordings as jobs: each is uploaded to a fresh ``awaaz serve`` (embedded job queue) through
    ``POST /v1/jobs`` and waited for; reports the server's peak RSS (VmHWM), the job's RTF (its running time
    over the audio's duration) and WER.

``python bench/longform.py proxies [--values 0 0.8] [--setting sentence_pause_s] [--model M]``
    The tuning proxies, from train data only: the dev clips carved from train (news, prose) and the first
    120 train news and Common Voice clips, each set joined into one recording and transcribed in process
    with the piece or long-form setting ``--setting`` (of ``AWAAZ_LONGFORM_*``, e.g. ``piece_s`` or
    ``max_recoveries``) at each value; reports WER and deletions, and the 99 dev clips one by one.
    "train news, half B" is cut with a join detector trained without it (the other sets' news was in
    the shipped detector's training). Two more sets stand in for read sentences by many voices joined
    with short pauses (what eval_stories joined is): the Common Voice and dev prose clips with their
    silence cut to ``--tight-gaps`` seconds between one clip's speech and the next, each beside the same
    clips one by one. Long-form settings and models are chosen here, never on an eval split.

All print a table and write JSON under ``bench/results/`` with the machine's CPU and ISA.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import soundfile as sf

from awaaz.audio import Audio, decode_audio
from awaaz.config import LongFormSettings, PieceSettings, get_settings
from awaaz.evaluation.manifest import ManifestEntry, read_manifest
from awaaz.evaluation.run import concatenations
from awaaz.text.metrics import CorpusScore, score_utterance
from run import REPO, RESULTS, SHARED_DATA, free_port, machine, start_server

SAMPLE_RATE = 16_000
NOA = SHARED_DATA / "ai4bharat_noa" / "manifest.tsv"
FIXTURES = REPO / "tests" / "fixtures" / "audio" / "manifest.tsv"


@dataclass(frozen=True)
class Recording:
    """A FLAC file of joined clips and its reference transcript."""

    path: Path
    reference: str
    duration_s: float


def write_recording(path: Path, entries: Iterator[ManifestEntry], seconds: float | None) -> Recording:
    """Write the ``entries``' clips one after another as FLAC, block by block; with ``seconds``, as many
    whole clips as fit in that length (so a 4 h recording stays within the 4 h job limit)."""
    texts, written = [], 0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, format="FLAC") as out:
        for entry in entries:
            audio, rate = sf.read(entry.audio, dtype="float32")
            assert rate == SAMPLE_RATE, entry.audio
            if seconds is not None and texts and written + audio.shape[0] > seconds * SAMPLE_RATE:
                break
            out.write(audio)
            written += audio.shape[0]
            texts.append(entry.text)
    return Recording(path, " ".join(texts), written / SAMPLE_RATE)


def cli_transcribe(path: Path, out_dir: Path) -> tuple[str, float, float]:
    """``awaaz transcribe PATH`` in a child process: (text, wall seconds, the child's peak RSS in MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "awaaz.cli", "transcribe", str(path), "--output", str(out_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"awaaz transcribe {path} exited with {process.returncode}")
    text = (out_dir / f"{path.stem}.txt").read_text(encoding="utf-8")
    return text, time.perf_counter() - started, usage.ru_maxrss / 1024


def score(reference: str, hypothesis: str) -> dict[str, float]:
    """WER and CER (normalised as ``awaaz eval`` does) and the word error counts."""
    result = score_utterance(reference, hypothesis)
    words = result.words
    return {
        "wer": round(result.wer, 4),
        "cer": round(result.cer, 4),
        "reference_words": words.reference_length,
        "deletions": words.deletions,
        "substitutions": words.substitutions,
        "insertions": words.insertions,
    }


def accuracy(splits: list[str], minutes: list[float], work: Path) -> dict[str, Any]:
    """Long-form WER through the HTTP API and the CLI for each split and recording length."""
    if not NOA.is_file():
        raise SystemExit(f"needs the shared eval data at {NOA}")
    recordings: dict[str, list[Recording]] = {}
    for split in splits:
        entries = read_manifest(NOA, split=split)
        for length in minutes:
            key = f"{split}/{length:g}min" if length else f"{split}/whole"
            groups = concatenations(entries, length) if length else [entries]
            recordings[key] = [
                write_recording(work / f"{split}-{length:g}-{i}.flac", iter(group), None)
                for i, group in enumerate(groups)
            ]
    longest = max(r.duration_s for rs in recordings.values() for r in rs)
    env = {"AWAAZ_PORT": str(port := free_port())}
    if longest > 600:  # the sync limit's default; raised for the whole-split files only
        env |= {"AWAAZ_MAX_SYNC_DURATION_S": str(int(longest) + 60), "AWAAZ_REQUEST_TIMEOUT_S": "3600"}
    server = start_server("awaaz", [sys.executable, "-m", "awaaz.cli", "serve"], env, port, "/ready")
    results: dict[str, Any] = {"server_env": env}
    try:
        for key, items in recordings.items():
            http_text, cli_text, http_s, cli_s = [], [], 0.0, 0.0
            for recording in items:
                started = time.perf_counter()
                with recording.path.open("rb") as handle:
                    response = httpx.post(
                        server.url + "/v1/audio/transcriptions",
                        files={"file": (recording.path.name, handle, "audio/flac")},
                        data={"model": "whisper-1"},
                        timeout=3600,
                    )
                response.raise_for_status()
                http_s += time.perf_counter() - started
                http_text.append(response.json()["text"])
                text, seconds, _ = cli_transcribe(recording.path, work)
                cli_text.append(text)
                cli_s += seconds
            reference = " ".join(r.reference for r in items)
            audio_s = sum(r.duration_s for r in items)
            results[key] = {
                "files": len(items),
                "audio_s": round(audio_s, 1),
                "http": {**score(reference, " ".join(http_text)), "rtf": round(http_s / audio_s, 3)},
                "cli": {**score(reference, " ".join(cli_text)), "rtf_with_load": round(cli_s / audio_s, 3)},
            }
            print(
                f"{key:<24}{len(items):>6}{audio_s:>9.0f}s  HTTP WER {results[key]['http']['wer']:.2%}"
                f"  CLI WER {results[key]['cli']['wer']:.2%}",
                flush=True,
            )
    finally:
        server.stop()
    return results


def speech() -> Iterator[ManifestEntry]:
    """Real speech, round and round: every ai4bharat_noa clip (train and eval), else the fixtures."""
    entries = read_manifest(NOA if NOA.is_file() else FIXTURES)
    while True:
        yield from entries


def memory(minutes: list[float], work: Path) -> dict[str, Any]:
    """Peak RSS and RTF of ``awaaz transcribe`` on recordings of each length."""
    results: dict[str, Any] = {"source": str(NOA if NOA.is_file() else FIXTURES)}
    for length in minutes:
        recording = write_recording(work / f"speech-{length:g}min.flac", speech(), length * 60)
        text, seconds, rss = cli_transcribe(recording.path, work)
        results[f"{length:g}min"] = {
            "audio_s": round(recording.duration_s, 1),
            "peak_rss_mb": round(rss, 1),
            "wall_s": round(seconds, 1),
            "rtf_with_load": round(seconds / recording.duration_s, 3),
            **score(recording.reference, text),
        }
        row = results[f"{length:g}min"]
        print(
            f"{length:>6g} min  peak RSS {rss:7.1f} MiB  RTF {row['rtf_with_load']:.3f}  "
            f"WER {row['wer']:.2%}",
            flush=True,
        )
    peaks = [results[f"{m:g}min"]["peak_rss_mb"] for m in minutes]
    results["peak_growth_mb"] = round(max(peaks) - peaks[0], 1)
    print(f"peak RSS growth from {minutes[0]:g} min to the longest: {results['peak_growth_mb']} MiB")
    return results


def jobs(minutes: list[float], work: Path) -> dict[str, Any]:
    """Peak RSS and RTF of a fresh server working one job of each length."""
    from awaaz.client import JobClient

    results: dict[str, Any] = {"source": str(NOA if NOA.is_file() else FIXTURES)}
    for length in minutes:
        recording = write_recording(work / f"speech-{length:g}min.flac", speech(), length * 60)
        port = free_port()
        env = {"AWAAZ_PORT": str(port), "AWAAZ_DATA_DIR": str(work / f"data-{length:g}")}
        server = start_server("awaaz", [sys.executable, "-m", "awaaz.cli", "serve"], env, port, "/ready")
        client = JobClient(server.url, timeout_s=600)
        try:
            job = client.submit(recording.path)
            done = client.wait(job["id"])
            text = client.result(job["id"], "text")
            rss = server.peak_rss_mb()
        finally:
            client.close()
            server.stop()
        running_s = done["finished_at"] - done["started_at"]
        results[f"{length:g}min"] = row = {
            "audio_s": round(recording.duration_s, 1),
            "upload_mb": round(recording.path.stat().st_size / 2**20, 1),
            "peak_rss_mb": round(rss, 1),
            "job_s": round(running_s, 1),
            "rtf": round(running_s / recording.duration_s, 3),
            "segments": done["segments"],
            **score(recording.reference, text),
        }
        recording.path.unlink()
        print(
            f"{length:>6g} min  peak RSS {rss:7.1f} MiB  RTF {row['rtf']:.3f}  WER {row['wer']:.2%}",
            flush=True,
        )
    peaks = [results[f"{m:g}min"]["peak_rss_mb"] for m in minutes]
    results["peak_growth_mb"] = round(max(peaks) - peaks[0], 1)
    print(f"peak RSS growth from {minutes[0]:g} min to the longest: {results['peak_growth_mb']} MiB")
    return results


def trimmed_loader(gap_s: float) -> Callable[[Path], Audio]:
    """Reads a clip with the silence before its first and after its last speech frame cut to ``gap_s`` / 2
    (the clip's own background, never padding), so that clips joined end to end meet across a pause of
    about ``gap_s``: sentences read one after another, by one voice or many."""
    from awaaz.longform.vad import speech_bounds

    def load(path: Path) -> Audio:
        audio = decode_audio(path)
        bounds = speech_bounds(audio)
        if bounds is None:
            return audio
        keep = round(gap_s / 2 * SAMPLE_RATE)
        return audio[max(0, bounds[0] - keep) : min(audio.shape[0], bounds[1] + keep)]

    return load


def with_setting(longform: LongFormSettings, setting: str, value: float) -> LongFormSettings:
    """``longform`` with one setting changed: a piece setting (``sentence_pause_s``) or one of the
    long-form settings themselves (``max_recoveries``); an integer setting takes ``value`` rounded."""
    nested = setting in PieceSettings.model_fields
    owner = PieceSettings if nested else LongFormSettings
    if setting not in owner.model_fields or setting in ("pieces", "cues"):
        raise SystemExit(f"--setting {setting!r} is neither a piece setting nor a long-form setting")
    typed = round(value) if owner.model_fields[setting].annotation is int else value
    if nested:
        return longform.model_copy(update={"pieces": longform.pieces.model_copy(update={setting: typed})})
    return longform.model_copy(update={setting: typed})


def proxies(
    setting: str,
    values: list[float],
    model: str | None = None,
    tight_gaps: Sequence[float] = (0.2, 0.5),
    work: Path | None = None,
) -> dict[str, Any]:
    """Long-form WER of the train-only proxies for each ``values`` of the piece setting ``setting``, and
    the 99 dev clips one by one (what a model change must not make worse); ``model``: default model.
    The tight sets (:func:`trimmed_loader`, one per ``tight_gaps``) are scored beside their clips one by
    one: only the loss from joining is informative on train clips the model has seen. The news sets
    above are cut with the shipped join detector, which was trained on them; "train news, half B" (the
    clips of every other train broadcast) is cut with a detector trained, into ``work``, without them."""
    from awaaz.evaluation.run import evaluate, evaluate_concatenated
    from awaaz.models.loading import load_engine
    from awaaz.train.data import Clip, find_manifests, load_training_clips, split_dev
    from awaaz.train.joins import train as train_joins

    settings = get_settings()
    engine = load_engine(model, settings)
    train, dev = split_dev(load_training_clips(find_manifests(SHARED_DATA)), seed=0)

    def entries(clips: list[Clip], name: str) -> list[ManifestEntry]:
        return [
            ManifestEntry(c.audio, c.duration_s, "", c.text, name, SHARED_DATA / c.source / "manifest.tsv")
            for c in clips
        ]

    prose = entries([c for c in dev if c.source == "ohmvikrant"], "dev prose")
    voices = entries([c for c in train if c.source == "cv_hi_sample"][:120], "train cv")
    # eval_news is 100 clips of 98 broadcasts: every join changes voice and room with no pause between.
    # Train news has runs of clips from one broadcast; the first clip of each of 100 broadcasts is like it.
    firsts: dict[str, Clip] = {}
    for clip in train:
        if clip.source == "ai4bharat_noa":
            firsts.setdefault(clip.group, clip)
    broadcasts = entries(list(firsts.values())[:100], "train news broadcasts")
    sets: dict[str, tuple[list[ManifestEntry], Callable[[Path], Audio]]] = {
        "dev news": (entries([c for c in dev if c.source == "ai4bharat_noa"], "dev news"), decode_audio),
        "dev prose": (prose, decode_audio),
        "train news, 120": (
            entries([c for c in train if c.source == "ai4bharat_noa"][:120], "train news"),
            decode_audio,
        ),
        "train Common Voice, 120": (voices, decode_audio),
        "train news, 100 broadcasts": (broadcasts, decode_audio),
    }
    news = [c for c in train if c.source == "ai4bharat_noa" and not c.synthetic and c.speed == 1.0]
    half_b = set(sorted({c.group for c in news})[1::2])
    unseen = entries([c for c in news if c.group in half_b], "train news half B")
    detector = (work or Path(tempfile.mkdtemp())) / "joins-without-half-b.npz"
    train_joins(SHARED_DATA, leave_out=half_b).save(detector)
    sets["train news, half B (joins unseen)"] = (unseen, decode_audio)
    for gap in tight_gaps:
        trimmed = trimmed_loader(gap)
        sets[f"train Common Voice, {gap:g} s gaps"] = (voices, trimmed)
        sets[f"dev prose, {gap:g} s gaps"] = (prose, trimmed)
    rows: list[dict[str, Any]] = []

    def add(value: float | None, name: str, score: CorpusScore) -> None:
        words = score.words
        rows.append({"value": value, "set": name, "wer": round(score.wer, 4), "deletions": words.deletions})
        label = "clip by clip" if value is None else f"{setting}={value:g}"
        print(
            f"{label:24} {name:32} WER {100 * score.wer:6.2f} %  deletions {words.deletions}  "
            f"insertions {words.insertions}",
            flush=True,
        )

    one_by_one = {
        "dev, 99 clips": entries(dev, "dev"),
        "train news, 100 broadcasts": broadcasts,
        "train news, half B (joins unseen)": unseen,
    }
    if tight_gaps:
        one_by_one.update({"train Common Voice, 120": voices, "dev prose": prose})
    for name, group in one_by_one.items():
        add(None, name, evaluate(engine, group, longform=settings.longform, progress=False).summary.score)
    for value in values:
        longform = with_setting(settings.longform, setting, value)
        held_out = longform.pieces.model_copy(update={"join_detector": detector})
        unseen_longform = longform.model_copy(update={"pieces": held_out})
        for name, (group, load) in sets.items():
            report = evaluate_concatenated(
                engine,
                group,
                60.0,
                longform=unseen_longform if group is unseen else longform,
                workers=engine.placement.replicas,
                load_audio=load,
                progress=False,
            )
            add(value, name, report.summary.score)
    return {"setting": setting, "tight_gaps": list(tight_gaps), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("accuracy", "memory", "jobs", "proxies"))
    parser.add_argument("--setting", default="sentence_pause_s", help="piece or long-form setting (proxies)")
    parser.add_argument("--values", type=float, nargs="+", default=[0.0, 0.8], help="its values (proxies)")
    parser.add_argument("--split", action="append", help="eval splits (accuracy; default both)")
    parser.add_argument("--minutes", type=float, nargs="+", help="recording lengths (0: whole split)")
    parser.add_argument("--tag", default="latest", help="results file: bench/results/longform-WHAT-TAG.json")
    parser.add_argument("--model", help="model id or CTranslate2 directory (proxies; default: the default)")
    parser.add_argument(
        "--tight-gaps", type=float, nargs="*", default=[0.2, 0.5], help="pauses of the tight sets (proxies)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="awaaz-longform-") as tmp:
        if args.what == "accuracy":
            splits = args.split or ["eval_news", "eval_stories"]
            body = accuracy(splits, args.minutes or [0.0, 2.0], Path(tmp))
        elif args.what == "proxies":
            body = proxies(args.setting, args.values, args.model, args.tight_gaps, Path(tmp))
        elif args.what == "jobs":
            body = jobs(args.minutes or [10.0, 60.0, 240.0], Path(tmp))
        else:
            body = memory(args.minutes or [10.0, 60.0], Path(tmp))
    out = RESULTS / f"longform-{args.what}-{args.tag}.json"
    out.write_text(json.dumps({"machine": machine(), **body}, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
