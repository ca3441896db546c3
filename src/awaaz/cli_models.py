"""``awaaz models ...``: prepare, list and manage the models this installation serves."""

from __future__ import annotations

from typing import Annotated

import typer

from awaaz.config import get_settings
from awaaz.errors import AwaazError

models_app = typer.Typer(help="Manage models.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


@models_app.command("prepare")
def models_prepare(
    model: Annotated[str | None, typer.Argument(help="Model id (default: the configured default).")] = None,
) -> None:
    """Assemble and verify a model's files in the model cache (done once; later runs reuse it)."""
    from awaaz.models.catalog import ModelCatalog

    settings = get_settings()
    try:
        path = ModelCatalog(settings).prepare(model)
    except AwaazError as exc:
        _fail(exc.message)
    typer.echo(f"{ModelCatalog(settings).resolve_id(model)}: {path}")


@models_app.command("list")
def models_list() -> None:
    """List the models this installation can serve."""
    from awaaz.models.catalog import ModelCatalog

    catalog = ModelCatalog(get_settings())
    for spec in catalog.list():
        marker = "*" if spec.id == catalog.default_id else " "
        typer.echo(f"{marker} {spec.id:<24} {spec.engine:<14} {spec.description}")
