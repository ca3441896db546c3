"""Average the weights of Whisper fine-tunes that share a starting point (a "model soup").

Fine-tunes of one pretrained model, trained with other seeds, data mixes or recipes, usually stay in one
basin of the loss, and the mean of their weights often transcribes better than any of them while costing
exactly one model at run time (Wortsman et al., 2022, "Model soups"). Awaaz's default model is such a mean
(docs/MODEL_CARD.md).

:func:`average_ct2_models` works on CTranslate2 directories with numpy only. The sources must have the same
files besides ``model.bin`` (config, tokenizer, vocabulary, pruning scope) and the same variables with the
same shapes and stored types. Float variables are averaged in float32 and stored back in their type; int8
weights are dequantised with their scales, averaged, and quantised again per output row the way
CTranslate2's converter does (``scale = 127 / max|row|``), so averaging a model with itself gives the same
bytes. Integer variables that are not weights (enums such as the activation) must be equal.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from awaaz.errors import InvalidParameterError, ModelError
from awaaz.models.integrity import publish_directory
from awaaz.models.registry import RegisteredModel, validate_model_id
from awaaz.models.shipped import SIDE_FILES
from awaaz.whisper.ct2_file import CT2Model, read_ct2_model, scale_name, write_ct2_model

if TYPE_CHECKING:
    from awaaz.models.catalog import ModelCatalog


def quantize_rows(weight: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """CTranslate2's int8 quantisation: one scale per output row, ``127 / max|row|``."""
    amax = np.abs(weight).reshape(weight.shape[0], -1).max(axis=1)
    amax[amax == 0] = 127.0
    scale = (127.0 / amax).astype(np.float32)
    quantized = np.round(weight * scale.reshape(-1, *([1] * (weight.ndim - 1))))
    return quantized.astype(np.int8), scale


def _check_same_layout(first: CT2Model, other: CT2Model, label: str) -> None:
    if set(first.variables) != set(other.variables) or first.aliases != other.aliases:
        raise ValueError(f"{label} has other variables than the first model: not the same architecture.")
    for name, array in first.variables.items():
        theirs = other.variables[name]
        if theirs.shape != array.shape or other.dtypes[name] != first.dtypes[name]:
            raise ValueError(
                f"{label}: variable {name!r} is {other.dtypes[name]} {theirs.shape}, the first model's is "
                f"{first.dtypes[name]} {array.shape}; quantise both the same way first."
            )


def _check_same_side_files(sources: Sequence[Path]) -> None:
    for name in SIDE_FILES:
        present = [(source / name).is_file() for source in sources]
        if not any(present):
            continue
        if not all(present):
            raise ValueError(f"{name} is in some of the models but not all; they must share it.")
        first = (sources[0] / name).read_bytes()
        for source in sources[1:]:
            if (source / name).read_bytes() != first:
                raise ValueError(
                    f"{source / name} differs from {sources[0] / name}: the models must share their "
                    "vocabulary, tokenizer and config (prune them all the same way, or none)."
                )


@dataclass(frozen=True, slots=True)
class AveragedWeights:
    """How many of the model file's variables differed between the sources, of how many."""

    differing: int
    variables: int


def average_ct2_models(sources: Sequence[tuple[Path, float]], target: Path) -> AveragedWeights:
    """Write to ``target`` the weighted mean of the CTranslate2 Whisper models ``sources``.

    ``sources`` holds (directory, weight) pairs; weights must be positive and are normalised to sum to 1.
    Returns how many variables differed between the sources (none: they were the same model).
    Raises ``ValueError`` when the models cannot be averaged (fewer than two, other shapes or files).
    """
    if len(sources) < 2:
        raise ValueError("give at least two models to average")
    if any(not np.isfinite(weight) or weight <= 0 for _, weight in sources):
        raise ValueError("every weight must be a positive number")
    directories = [path for path, _ in sources]
    _check_same_side_files(directories)
    total = sum(weight for _, weight in sources)
    weights = [weight / total for _, weight in sources]
    models = [read_ct2_model(path / "model.bin") for path in directories]
    first = models[0]
    for path, model in zip(directories[1:], models[1:], strict=True):
        _check_same_layout(first, model, str(path))
    changed = {
        name
        for name, array in first.variables.items()
        if not all(np.array_equal(model.variables[name], array) for model in models[1:])
    }
    quantized = {
        name: scale_name(name)
        for name, array in first.variables.items()
        if array.dtype == np.int8 and scale_name(name) in first.variables
    }
    scales = set(quantized.values())
    variables = dict(first.variables)  # in the file's order; what the sources share stays as it is
    for name, array in first.variables.items():
        scale = quantized.get(name)
        if name in scales or not ({name, scale} & changed):
            continue  # a scale is rewritten with its weight; a shared variable is kept
        if scale is None and not np.issubdtype(array.dtype, np.floating):
            raise ValueError(
                f"variable {name!r} ({array.dtype}) differs between the models and is not a weight"
            )
        mean = np.asarray(sum(w * m.float32(name) for w, m in zip(weights, models, strict=True)), np.float32)
        if scale is None:
            variables[name] = mean.astype(array.dtype)
        else:
            variables[name], row_scales = quantize_rows(mean)
            variables[scale] = row_scales.astype(first.variables[scale].dtype)
    out = CT2Model(
        name=first.name,
        revision=first.revision,
        binary_version=first.binary_version,
        variables=variables,
        aliases=dict(first.aliases),
        dtypes=dict(first.dtypes),
    )
    target.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        if (directories[0] / name).is_file():
            shutil.copy2(directories[0] / name, target / name)
    write_ct2_model(out, target / "model.bin")
    return AveragedWeights(len(changed), len(variables))


@dataclass(frozen=True, slots=True)
class AverageResult:
    """What :func:`average_registered` made: the new entry and what its weights are."""

    model: RegisteredModel
    weights: AveragedWeights


def _move_into_place(fresh: Path, target: Path) -> None:
    """Put the complete directory ``fresh`` at ``target``; what was there is removed once it is replaced."""
    if not target.exists():
        fresh.rename(target)
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old)


def average_registered(
    catalog: ModelCatalog,
    names: Sequence[str],
    *,
    new_id: str,
    weights: Sequence[float] | None = None,
    replace: bool = False,
) -> AverageResult:
    """Average the whisper-ct2 models ``names`` of the catalog and register the result as ``new_id``."""
    validate_model_id(new_id)
    if len(names) < 2:
        raise InvalidParameterError("Give at least two models to average.", param="model")
    weights = list(weights) if weights is not None else [1.0] * len(names)
    if len(weights) != len(names):
        raise InvalidParameterError(
            f"{len(weights)} weights for {len(names)} models: give one weight per model.", param="weights"
        )
    specs = [catalog.get(name) for name in names]
    for spec in specs:
        if spec.engine != "whisper-ct2":
            raise InvalidParameterError(
                f"Model {spec.id!r} uses engine {spec.engine!r}; only whisper-ct2 models can be averaged.",
                param="model",
            )
    target = catalog.registry.model_dir / "averaged" / new_id
    if target.exists() and not replace:
        raise ModelError(f"{target} already exists. Remove it, choose another id, or pass --replace.")
    mix = list(zip(specs, weights, strict=True))
    sources = [(catalog.prepare(spec.id), weight) for spec, weight in mix]
    made: list[AveragedWeights] = []
    fresh = target.with_name(f".{new_id}.new")  # built beside the model it may replace, which may be a source
    shutil.rmtree(fresh, ignore_errors=True)
    try:

        def build(staging: Path) -> None:
            made.append(average_ct2_models(sources, staging))

        publish_directory(fresh, build)
    except ValueError as exc:
        raise InvalidParameterError(f"Cannot average {', '.join(names)}: {exc}", param="model") from exc
    _move_into_place(fresh, target)
    total = sum(weights)
    shares = ", ".join(f"{spec.id} {weight / total:.2f}" for spec, weight in mix)
    entry = RegisteredModel(
        id=new_id,
        engine="whisper-ct2",
        path=str(target.relative_to(catalog.registry.model_dir)),
        description=f"weight average of {shares}",
        compute_type=specs[0].compute_type,
        source="average:" + ",".join(f"{spec.id}={weight:g}" for spec, weight in mix),
    )
    catalog.register(entry, replace=replace)
    return AverageResult(entry, made[0])
