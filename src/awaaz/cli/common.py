"""What every command shares: how a command fails, and how a client command names its server's key."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="AWAAZ_API_KEY",
        help="The server's API key, when it wants one (env AWAAZ_API_KEY).",
        show_default=False,
    ),
]


def fail(message: str) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with status 1."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)
