"""The ``awaaz`` command line: one module per command group, each a thin layer over library functions.

Every command parses its arguments, checks them before anything heavy loads, calls one library function
and prints; the HTTP API is the other thin layer over the same functions.
"""

from __future__ import annotations

import typer

from awaaz.cli.evaluate import app as eval_app
from awaaz.cli.keys import keys_app
from awaaz.cli.lm import lm_app
from awaaz.cli.models import models_app
from awaaz.cli.serve import serve
from awaaz.cli.stream import stream
from awaaz.cli.train import synth_command, train_command
from awaaz.cli.transcribe import transcribe
from awaaz.cli.worker import worker

app = typer.Typer(help="Awaaz: self-hosted Hindi speech-to-text.", no_args_is_help=True)
app.command()(transcribe)
app.command()(serve)
app.command()(worker)
app.command()(stream)
app.add_typer(models_app, name="models")
app.add_typer(lm_app, name="lm")
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app)
app.command("train")(train_command)
app.command("synth")(synth_command)


def main() -> None:
    """Entry point of the ``awaaz`` script."""
    app()
