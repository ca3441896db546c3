"""The guard sweep's bookkeeping (no model), and the punctuation guard's token choice."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from awaaz.engines.whisper_ct2 import WhisperGuards
from awaaz.evaluation import guards
from awaaz.evaluation.manifest import read_manifest
from awaaz.evaluation.run import evaluate
from awaaz.whisper.devanagari import punctuation_token_ids
from tests.evaluation.fakes import ScriptedEngine, write_manifest


def test_variants_start_from_the_original_guards_not_the_current_defaults() -> None:
    current = guards.variant_guards("current")
    assert current.collapse_loops is False
    assert current.temperature_fallback is True
    assert current.force_devanagari is True
    assert current != WhisperGuards()
    assert guards.variant_guards("none").force_devanagari is False
    bounded = guards.variant_guards("bounded")
    assert (bounded.temperature_fallback, bounded.max_tokens_per_second) == (False, 30.0)


def test_every_variant_names_real_settings() -> None:
    for name in guards.VARIANTS:
        guards.variant_guards(name)


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(typer.BadParameter, match="unknown variant"):
        guards.variant_guards("nope")


def test_eval_splits_are_refused(tmp_path: Path) -> None:
    entries = read_manifest(write_manifest(tmp_path))  # holds an eval_fake clip
    with pytest.raises(typer.BadParameter, match="train data only"):
        guards._refuse_eval_splits(entries)
    guards._refuse_eval_splits([e for e in entries if e.split == "train"])


def test_collapsed_rescoring_and_table_row(tmp_path: Path) -> None:
    engine = ScriptedEngine()
    entries = read_manifest(write_manifest(tmp_path), split="train")
    report = evaluate(engine, entries, clock=engine.clock, progress=False)
    collapsed = guards.collapsed(report)
    # The fake loop is on the danda, which the normaliser drops anyway: same WER, same counts.
    assert collapsed.wer == pytest.approx(report.summary.wer)
    row = guards.table_row("current", report)
    assert row.startswith("| current | (original defaults) | 20.0% |")
    assert row.count("|") == guards.TABLE_HEADER.splitlines()[0].count("|")


def test_punctuation_guard_keeps_question_mark_comma_and_byte_pieces() -> None:
    # GPT-2 byte-level spelling: "Ġ" is a space; "à¥" and "¤" are the two pieces of the danda.
    vocabulary = ["!", ",", "?", "Ġ?", '"', "Ġ(", "à¥", "¤", "क", "1", "Ġ..."]
    suppressed = {vocabulary[i] for i in punctuation_token_ids(vocabulary, len(vocabulary))}
    assert suppressed == {"!", '"', "Ġ(", "Ġ..."}
    everything = {vocabulary[i] for i in punctuation_token_ids(vocabulary, len(vocabulary), frozenset())}
    assert everything == {"!", ",", "?", "Ġ?", '"', "Ġ(", "Ġ..."}


def test_engine_defaults_are_the_chosen_variant() -> None:
    assert guards.variant_guards("chosen") == WhisperGuards()


def test_describe_names_each_change() -> None:
    assert guards.describe({}) == "(original defaults)"
    assert guards.describe(guards.VARIANTS["bounded+punct"]) == (
        "no fallback, <= 30 tokens/s, punctuation suppressed but '?,'"
    )
    assert (
        guards.describe({"suppress_punctuation": True, "kept_punctuation": ""})
        == "all punctuation suppressed"
    )
