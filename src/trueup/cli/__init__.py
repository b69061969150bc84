"""The `trueup` command line."""

from __future__ import annotations

import sys

from rich.markup import escape

from trueup.cli.app import app
from trueup.cli.output import err
from trueup.errors import ConfigError, TransientError, TrueupError

EXIT_TRANSIENT = 75  # EX_TEMPFAIL: the cause may pass; try again later


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error a user can cause becomes one clear message and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, prog_name="trueup")  # Typer handles usage errors and --help itself
    except ConfigError as exc:
        if debug:
            raise
        err.print(f"[bold red]{escape(exc.args[0].splitlines()[0])}[/]")
        for problem in exc.problems:
            err.print("  • " + problem.render(), markup=False)
        sys.exit(exc.exit_code)
    except TransientError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(EXIT_TRANSIENT)
    except TrueupError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}")
        err.print("Run again with --debug for the traceback, and please report it.")
        sys.exit(1)


__all__ = ["main"]
