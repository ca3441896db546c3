"""``python -m awaaz.cli``: the ``awaaz`` command."""

from awaaz.cli import main

main()
