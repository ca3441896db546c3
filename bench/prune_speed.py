"""In-process speed of a Whisper model against its Hindi-pruned copy, on the benchmark's 10 s clip and more.

For each thread count, transcribes each clip with Awaaz's default engine settings (beam 5, VAD, LM
rescoring, trimmed windows) alternately on the full and the pruned model, and prints the median RTF of each
and whether the transcripts are identical. Usage::

    python bench/prune_speed.py FULL_DIR [PRUNED_DIR] [--threads 1 2] [--runs 3] [--clips N]

Without PRUNED_DIR the full model is pruned into a temporary folder first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import CLIP_S, SHARED_DATA, make_clip  # noqa: E402


def _clips(extra: int) -> list[tuple[str, object]]:
    import io

    import soundfile as sf

    from awaaz.audio import decode_audio

    clip, _ = make_clip()
    audio, _ = sf.read(io.BytesIO(clip), dtype="float32")
    clips: list[tuple[str, object]] = [(f"{CLIP_S:g} s bench clip", audio)]
    news = sorted((SHARED_DATA / "ai4bharat_noa" / "audio").glob("news/*/sent_1*.flac"))
    clips += [(path.name, decode_audio(path)) for path in news[:extra]]
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full", type=Path)
    parser.add_argument("pruned", type=Path, nargs="?")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clips", type=int, default=0, help="Extra train news clips (needs ../shared).")
    args = parser.parse_args()

    from awaaz.audio import duration_s
    from awaaz.config import RuntimeSettings, Settings
    from awaaz.models.loading import load_engine
    from awaaz.modeltools.prune import prune_vocabulary
    from awaaz.types import TranscribeOptions

    pruned = args.pruned
    if pruned is None:
        pruned = Path(tempfile.mkdtemp(prefix="awaaz-pruned-")) / "model"
        prune_vocabulary(args.full, pruned)
    clips = _clips(args.clips)
    options = TranscribeOptions(language="hi")
    for threads in args.threads:
        # One replica with the shipped LM, as the default engine has (AWAAZ_LM=default).
        settings = Settings(runtime=RuntimeSettings(cpu_threads=threads, num_workers=1)).with_lm("default")
        engines = {
            "full": load_engine(str(args.full), settings),
            "pruned": load_engine(str(pruned), settings),
        }
        totals = dict.fromkeys(engines, 0.0)
        same = 0
        for label, audio in clips:
            times: dict[str, list[float]] = {name: [] for name in engines}
            texts: dict[str, str] = {}
            for name, engine in [*engines.items()] * (args.runs + 1):
                started = time.perf_counter()
                segments = engine.transcribe(audio, options).collect().segments  # type: ignore[arg-type]
                times[name].append(time.perf_counter() - started)
                texts[name] = " ".join(s.text for s in segments)
            seconds = duration_s(audio)  # type: ignore[arg-type]
            rtf = {name: statistics.median(t[1:]) / seconds for name, t in times.items()}  # first: warm-up
            for name in engines:
                totals[name] += rtf[name]
            identical = texts["full"] == texts["pruned"]
            same += identical
            print(
                f"threads={threads} {label}: RTF full {rtf['full']:.3f}, pruned {rtf['pruned']:.3f} "
                f"({rtf['full'] / rtf['pruned']:.2f}x), transcripts {'identical' if identical else 'DIFFER'}",
                flush=True,
            )
        print(
            f"threads={threads}: mean RTF full {totals['full'] / len(clips):.3f}, pruned "
            f"{totals['pruned'] / len(clips):.3f}, speed-up {totals['full'] / totals['pruned']:.2f}x, "
            f"{same}/{len(clips)} transcripts identical",
            flush=True,
        )
        for engine in engines.values():
            engine.close()


if __name__ == "__main__":
    main()
