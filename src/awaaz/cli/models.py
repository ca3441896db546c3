"""``awaaz models ...``: prepare, list, add, remove, pull, quantize, prune, average, export served models."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from awaaz.cli.common import fail
from awaaz.config import get_settings
from awaaz.engines.base import EngineName
from awaaz.errors import AwaazError

if TYPE_CHECKING:
    from awaaz.models.catalog import ModelCatalog


class TokenUnits(StrEnum):
    """What a token of a new Hindi vocabulary may span (:mod:`awaaz.modeltools.retokenize`)."""

    AKSHARAS = "aksharas"
    WORDS = "words"


T = TypeVar("T")

models_app = typer.Typer(help="Manage models.", no_args_is_help=True)


def _on_catalog(action: Callable[[ModelCatalog], T]) -> T:
    """Run ``action`` on the configured catalog; a domain error exits 1 with its message."""
    from awaaz.models.catalog import ModelCatalog

    try:
        return action(ModelCatalog(get_settings()))
    except AwaazError as exc:
        fail(exc.message)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


@models_app.command("prepare")
def models_prepare(
    model: Annotated[str | None, typer.Argument(help="Model id (default: the configured default).")] = None,
) -> None:
    """Assemble and verify a model's files in the model cache (done once; later runs reuse it)."""
    model_id, path = _on_catalog(lambda catalog: (catalog.resolve_id(model), catalog.prepare(model)))
    typer.echo(f"{model_id}: {path}")


@models_app.command("list")
def models_list() -> None:
    """List the models this installation can serve (* marks the default)."""
    from awaaz.models.catalog import ModelCatalog

    try:
        catalog = ModelCatalog(get_settings())
        specs = catalog.list()
    except AwaazError as exc:
        fail(exc.message)
    for spec in specs:
        marker = "*" if spec.id == catalog.default_id else " "
        origin = "built-in" if spec.builtin else "added"
        typer.echo(f"{marker} {spec.id:<24} {spec.engine:<14} {origin:<9} {spec.description}")


def _check_model_dir(engine: EngineName, path: Path) -> None:
    if engine is EngineName.NEMO_CTC_ONNX:
        from awaaz.engines.nemo_ctc_onnx import read_model_files

        read_model_files(path)
    elif not (path / "model.bin").is_file():
        fail(f"{path} holds no model.bin: it is not a CTranslate2 Whisper model directory.")


@models_app.command("add")
def models_add(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="The id requests will use.")],
    path: Annotated[Path, typer.Argument(help="The model directory.")],
    engine: Annotated[EngineName, typer.Option(help="Engine that runs the model.")] = EngineName.WHISPER_CT2,
    description: Annotated[str, typer.Option(help="Shown by `awaaz models list`.")] = "",
    compute_type: Annotated[
        str | None, typer.Option(help="CTranslate2 compute type for whisper-ct2 models.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Register a model directory already on disk (a CTranslate2 Whisper model or an exported NeMo model)."""
    from awaaz.models.catalog import ModelCatalog
    from awaaz.models.registry import RegisteredModel

    path = path.expanduser().resolve()
    if not path.is_dir():
        fail(f"{path} is not a directory.")
    try:
        _check_model_dir(engine, path)
        entry = RegisteredModel(
            id=model_id,
            engine=engine.value,
            path=str(path),
            description=description,
            compute_type=compute_type,
            source=f"add:{path}",
        )
        ModelCatalog(get_settings()).register(entry, replace=replace)
    except AwaazError as exc:
        fail(exc.message)
    typer.echo(f"added {model_id} ({engine.value}) -> {path}")


@models_app.command("remove")
def models_remove(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="A registered model id.")],
    delete_files: Annotated[
        bool, typer.Option(help="Also delete its files, when they are inside the model directory.")
    ] = False,
) -> None:
    """Unregister a model. Its files stay unless --delete-files (and they live in the model directory)."""
    settings = get_settings()
    removed = _on_catalog(lambda catalog: catalog.unregister(model_id))
    typer.echo(f"removed {model_id}")
    if delete_files:
        path = removed.resolved_path(settings.models.model_dir).resolve()
        if path.is_relative_to(settings.models.model_dir.resolve()) and path.is_dir():
            shutil.rmtree(path)
            typer.echo(f"deleted {path}")
        else:
            typer.echo(f"kept {path}: it is outside the model directory {settings.models.model_dir}")


@models_app.command("pull")
def models_pull(
    name: Annotated[
        str,
        typer.Argument(help="tiny, base, small, medium, large-v3, turbo, or a CTranslate2 repository id."),
    ],
    model_id: Annotated[str | None, typer.Option("--id", help="Register under this id.")] = None,
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit of the repository.")] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Download a CTranslate2 Whisper model from the Hugging Face Hub, then register it (uses HF_ENDPOINT)."""
    from awaaz.models.catalog import ModelCatalog
    from awaaz.modeltools.hub import pull

    settings = get_settings()
    try:
        entry = pull(ModelCatalog(settings), name, model_id=model_id, revision=revision, replace=replace)
    except AwaazError as exc:
        fail(exc.message)
    typer.echo(
        f"pulled {entry.source.removeprefix('hf:')} as {entry.id} -> {settings.models.model_dir / entry.path}"
    )


@models_app.command("quantize")
def models_quantize(
    model: Annotated[str, typer.Argument(help="The model to quantize.")],
    compute_type: Annotated[
        str,
        typer.Option(
            help="int8 or uint8 for ONNX models; any CTranslate2 compute type for whisper-ct2 models."
        ),
    ] = "int8",
    new_id: Annotated[
        str | None, typer.Option("--id", help="Id of the variant (default MODEL-TYPE).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Register a quantized variant: ONNX dynamic int8 for NeMo models, a compute type for Whisper."""
    from awaaz.modeltools.quantize import quantize

    device = "cuda" if get_settings().runtime.device == "cuda" else "cpu"
    result = _on_catalog(
        lambda catalog: quantize(
            catalog, model, compute_type=compute_type, new_id=new_id, device=device, replace=replace
        )
    )
    change = result.size_after / result.size_before if result.size_before else 1.0
    typer.echo(
        f"{result.model.id}: {_mb(result.size_before)} -> {_mb(result.size_after)} on disk ({change:.0%})"
    )
    if result.note:
        typer.echo(result.note)


@models_app.command("prune")
def models_prune(
    model: Annotated[str, typer.Argument(help="The Whisper model to prune.")],
    language: Annotated[str, typer.Option(help="The language the pruned model will write.")] = "hi",
    new_id: Annotated[
        str | None, typer.Option("--id", help="Id of the pruned model (default MODEL-LANGUAGE).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Register a copy of a Whisper model whose vocabulary keeps only LANGUAGE's tokens: same transcripts for
    that language, a decoder step that reads about half the bytes; other languages and translation refused."""
    from awaaz.modeltools.prune import prune_registered

    result = _on_catalog(
        lambda catalog: prune_registered(catalog, model, language=language, new_id=new_id, replace=replace)
    )
    typer.echo(
        f"{result.model.id}: {result.scope.kept_tokens} of {result.scope.source_tokens} tokens kept, "
        f"model.bin {_mb(result.size_before)} -> {_mb(result.size_after)}"
    )


@models_app.command("retokenize")
def models_retokenize(
    model: Annotated[str, typer.Argument(help="The Hindi Whisper model to give a Hindi vocabulary.")],
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Text files (one sentence a line), manifest.tsv files or folders of */manifest.tsv (their "
            "split=train transcripts, less awaaz train's dev clips) to learn the vocabulary from.",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    size: Annotated[int, typer.Option(min=300, help="Most text tokens of the new vocabulary.")] = 3000,
    units: Annotated[
        TokenUnits,
        typer.Option(
            help="What a token may span: one written syllable (aksharas: a word is still spelt sound by "
            "sound) or a whole word (words: fewer steps, but the decoder guesses frequent words).",
        ),
    ] = TokenUnits.AKSHARAS,
    new_id: Annotated[
        str | None, typer.Option("--id", help="Id of the new model (default MODEL-akNk or MODEL-hvNk).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Register a copy of a Hindi Whisper model with a vocabulary trained on Hindi text: about 2.2 decoder
    steps a word instead of 5.2. Its new token embeddings start from the old tokens that spell them; train
    it (`awaaz train --base-model`) before serving it."""
    from awaaz.cli.common import text_lines
    from awaaz.modeltools.retokenize import retokenize_registered

    texts = list(text_lines(sources, hold_out_dev=True))
    entry, made = _on_catalog(
        lambda catalog: retokenize_registered(
            catalog, model, texts, size=size, units=units.value, new_id=new_id, replace=replace
        )
    )
    typer.echo(
        f"{entry.id}: {made.text_tokens} text tokens (from {made.source_text_tokens}), "
        f"{made.special_tokens} special and timestamp tokens kept; train it before serving it"
    )


@models_app.command("average")
def models_average(
    models: Annotated[
        list[str],
        typer.Argument(help="Two or more Whisper fine-tunes of the same base model.", metavar="MODEL"),
    ],
    new_id: Annotated[str, typer.Option("--id", help="Id of the averaged model.")],
    weights: Annotated[
        str | None,
        typer.Option(help="Comma-separated weight of each model, e.g. 2,1,1 (default: equal)."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a model registered under the same id.")] = False,
) -> None:
    """Register the weighted mean of the models' weights (a "model soup"): fine-tunes of one base with other
    seeds or data mixes often transcribe better averaged than alone, at the cost of one model."""
    from awaaz.modeltools.average import average_registered

    parsed: list[float] | None = None
    if weights is not None:
        try:
            parsed = [float(part) for part in weights.split(",")]
        except ValueError:
            raise typer.BadParameter(
                f"{weights!r}: give numbers such as 2,1,1", param_hint="--weights"
            ) from None
    result = _on_catalog(
        lambda catalog: average_registered(catalog, models, new_id=new_id, weights=parsed, replace=replace)
    )
    typer.echo(
        f"{result.model.id}: {result.model.description}; {result.weights.differing} of "
        f"{result.weights.variables} variables differed between the models"
    )


@models_app.command("export-nemo")
def models_export_nemo(
    nemo_file: Annotated[Path, typer.Argument(metavar="FILE.nemo", help="A NeMo CTC or hybrid checkpoint.")],
    out_dir: Annotated[Path, typer.Argument(help="New directory for model.onnx, vocab.txt, config.json.")],
    model_id: Annotated[
        str | None, typer.Option("--id", help="Also register the export under this id.")
    ] = None,
    language: Annotated[str, typer.Option(help="Language the model recognises.")] = "hi",
) -> None:
    """Convert a .nemo checkpoint for the nemo-ctc-onnx engine (needs `pip install 'awaaz[nemo]'`)."""
    from awaaz.models.catalog import ModelCatalog
    from awaaz.models.registry import RegisteredModel
    from awaaz.modeltools.nemo_export import export_nemo

    try:
        path = export_nemo(nemo_file, out_dir.expanduser().resolve(), language=language)
        typer.echo(f"exported {nemo_file} -> {path}")
        if model_id:
            entry = RegisteredModel(
                id=model_id,
                engine="nemo-ctc-onnx",
                path=str(path),
                description=f"NeMo CTC from {nemo_file.name}",
                source=f"export-nemo:{nemo_file.name}",
            )
            ModelCatalog(get_settings()).register(entry)
            typer.echo(f"added {model_id} (nemo-ctc-onnx)")
    except AwaazError as exc:
        fail(exc.message)
