"""``awaaz serve``: the HTTP API on the embedded default."""

from __future__ import annotations

from typing import Annotated

import typer

from awaaz import logs
from awaaz.allocator import limit_malloc_arenas
from awaaz.config import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: AWAAZ_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: AWAAZ_PORT).")] = None,
) -> None:
    """Start the HTTP API."""
    import uvicorn

    from awaaz.api.app import create_app
    from awaaz.api.server import server_config

    settings = get_settings()
    logs.configure(settings.server.log_level, settings.server.log_format)
    limit_malloc_arenas(settings.server.malloc_arenas)  # before any thread starts
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    uvicorn.Server(server_config(create_app(settings), settings.server, **overrides)).run()
