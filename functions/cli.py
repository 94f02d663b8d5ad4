"""The Functions adapter's commands: ``spyglass poison`` (or ``python -m functions.poison``) list, show, replay.

Registered on the ``spyglass`` command by the ``spyglass.commands`` entry point; the work is in
``functions.poison``, imported when a command runs, so ``spyglass --help`` loads no Azure SDK.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


poison_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and replay the chain-snapshots-poison queue.")
_CONN = typer.Option("--connection-string", envvar="AzureWebJobsStorage", help="storage connection string")


@poison_app.command("list")
def poison_list(connection_string: Annotated[str, _CONN]) -> None:
    """Every poisoned message: its tries, size and why it failed."""
    from functions.poison import MAX_MESSAGES, Inspector

    messages = Inspector(connection_string).messages()
    for m in messages:
        tries = "?" if m.tries is None else m.tries
        print(f"{m.id}  inserted {m.inserted}  tries {tries}  {len(m.text)} chars  {m.reason}")
    more = " (the listing stops there: replay or delete some to see the rest)" if len(messages) >= MAX_MESSAGES else ""
    _err(f"{len(messages)} message(s) in the poison queue{more}")
    if any(m.tries is None for m in messages):
        _err("tries ?: no failed try was recorded (the host moved it without the function finishing a try); "
             "the reason is what decoding it says now")


@poison_app.command("show")
def poison_show(message_id: str, connection_string: Annotated[str, _CONN]) -> None:
    """The full text of one poisoned message, why it failed and how many tries it had."""
    from functions.poison import Inspector

    for m in Inspector(connection_string).messages():
        if m.id == message_id:
            print(m.text)
            _err(f"reason: {m.reason}")
            _err(f"tries: {'? (none recorded)' if m.tries is None else m.tries}"
                 + (f", as message {m.original_id} on chain-snapshots" if m.original_id else ""))
            return
    _err(f"no message {message_id} in the poison queue")
    raise typer.Exit(1)


@poison_app.command("replay")
def poison_replay(
    connection_string: Annotated[str, _CONN],
    ids: Annotated[Optional[list[str]], typer.Argument(help="message ids (default: all)")] = None,
) -> None:
    """Move poisoned messages back to chain-snapshots (after fixing what made them fail)."""
    from functions.poison import Inspector

    print(f"replayed {Inspector(connection_string).replay(set(ids) if ids else None)} message(s)")


def register(app: typer.Typer) -> None:
    """The ``spyglass.commands`` entry point: ``spyglass poison ...``."""
    app.add_typer(poison_app, name="poison")
