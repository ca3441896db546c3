"""``export-nemo`` without NeMo installed, and the layout writer it shares with the tests' tiny model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from awaaz.engines.nemo_ctc_onnx import read_model_files
from awaaz.errors import ModelError
from awaaz.modeltools.nemo_export import export_nemo, write_layout

needs_no_nemo = pytest.mark.skipif(
    importlib.util.find_spec("nemo") is not None, reason="nemo_toolkit is installed here"
)


@needs_no_nemo
def test_missing_extra_says_how_to_install_it(tmp_path: Path) -> None:
    checkpoint = tmp_path / "stt_hi_conformer_ctc_medium.nemo"
    checkpoint.write_bytes(b"tar")
    with pytest.raises(ModelError, match=r"pip install 'awaaz\[nemo\]'"):
        export_nemo(checkpoint, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_checkpoint_and_existing_target(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        export_nemo(tmp_path / "absent.nemo", tmp_path / "out")
    (tmp_path / "m.nemo").write_bytes(b"")
    (tmp_path / "out").mkdir()
    with pytest.raises(ModelError, match="already exists"):
        export_nemo(tmp_path / "m.nemo", tmp_path / "out")


def test_layout_round_trips_through_the_engine_reader(nemo_model_dir: Path, tmp_path: Path) -> None:
    write_layout(
        tmp_path,
        nemo_model_dir / "model.onnx",
        ["▁क", "ा"],
        preprocessor={"features": 80, "window_size": 0.025, "dither": 1e-5},
        subsampling_factor=8,
        language="hi",
    )
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == "▁क 0\nा 1\n<blk> 2\n"
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["features_size"], config["subsampling_factor"]) == (80, 8)
    files = read_model_files(tmp_path)
    assert (files.vocabulary, files.blank_id, files.subsampling_factor) == (["▁क", "ा", "<blk>"], 2, 8)
