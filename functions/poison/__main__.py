"""``python -m functions.poison list|show|replay``: the commands of functions/cli.py, on their own."""

from functions.cli import poison_app

poison_app(prog_name="python -m functions.poison")
