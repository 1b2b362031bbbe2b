"""Command-line interface: thin wrappers over the library functions.

Only this module turns an :class:`~hrdiscourse.errors.HRDiscourseError` into a
one-line message and an exit status.

Exit statuses: 0 everything analysed; 1 a fatal error (one line on stderr, no
traceback); 2 a usage error (bad option or argument); 3 the run finished but some
inputs were rejected (listed in ``errors.jsonl``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from . import __version__
from .errors import HRDiscourseError

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_REJECTED = 3

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="hrdiscourse",
    help="Find harm-reduction framing and its co-optation in news, government releases and funding calls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = EXIT_FATAL) -> None:
    typer.echo(f"hrdiscourse: error: {message}", err=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn library errors into one clear line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HRDiscourseError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; rerun with --resume to continue where the run stopped", 130)
        except OSError as exc:
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))

    return wrapper  # type: ignore[return-value]


@app.callback()
def _root() -> None:
    """hrdiscourse command-line interface."""


@app.command("version")
def version_cli() -> None:
    """Print the hrdiscourse version."""
    typer.echo(__version__)


@app.command("analyze")
@handle_errors
def analyze_cli(
    inputs: list[Path] = typer.Argument(..., help="Files or folders to analyse (folders are walked)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for documents.jsonl and the reports."),
    model: str = typer.Option("auto", help="spaCy pipeline name or path; 'auto' picks the installed one."),
    mode: str = typer.Option("default", help="default (fast pass, parser near mentions), full or fast."),
    batch_size: int = typer.Option(16, min=1, help="Documents per nlp.pipe batch."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run that was stopped, keeping its results."),
    reports: bool = typer.Option(True, "--reports/--no-reports", help="Write the HTML/Markdown reports."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Analyse documents and write documents.jsonl, errors.jsonl, manifest.json and reports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .runner import run_analysis

    for path in inputs:
        if not path.exists():
            _fail(f"{path}: no such file or folder; give files or folders to analyse.", 2)
    with Progress(
        TextColumn("[bold]analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("inputs"),
        TimeElapsedColumn(),
        disable=quiet or not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task("analyse", total=None)
        manifest = run_analysis(
            inputs,
            out,
            model=model,
            mode=mode,  # type: ignore[arg-type]
            batch_size=batch_size,
            resume=resume,
            write_reports=reports,
            progress=lambda n: bar.advance(task, n),
        )
    typer.echo(
        f"{manifest['analysed']} analysed, {manifest['errors']} rejected, "
        f"{manifest['duplicates']} duplicates of {manifest['inputs']} inputs "
        f"in {manifest['duration_s']:.1f} s"
    )
    if reports:
        typer.echo(f"Corpus report: {out / 'index.html'}")
    if manifest["errors"]:
        typer.echo(f"Rejected inputs and reasons: {out / 'errors.jsonl'}", err=True)
        raise typer.Exit(EXIT_REJECTED)


@app.command("report")
@handle_errors
def report_cli(
    run_dir: Path = typer.Argument(..., help="Output folder of an earlier 'analyze' run."),
) -> None:
    """Rebuild the reports of a run from its stored documents.jsonl and manifest.json."""
    from .reports import rebuild_reports

    paths = rebuild_reports(run_dir)
    typer.echo(f"wrote {len(paths)} files; corpus report: {run_dir / 'index.html'}")


def main() -> None:
    app()
