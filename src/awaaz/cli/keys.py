"""``awaaz keys``: make API keys (README "Access")."""

from __future__ import annotations

import typer

from awaaz.access import HASH_PREFIX, key_digest, new_key

keys_app = typer.Typer(help="API keys for AWAAZ_API_KEYS / AWAAZ_API_KEYS_FILE.", no_args_is_help=True)


@keys_app.command("new")
def new() -> None:
    """Print a new random API key (give it to the client) and the line that lets the server accept it
    without storing the key itself (append it to the AWAAZ_API_KEYS_FILE file)."""
    key = new_key()
    typer.echo(f"key:       {key}")
    typer.echo(f"keys file: {HASH_PREFIX}{key_digest(key)}")
