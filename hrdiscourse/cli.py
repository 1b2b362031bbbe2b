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
    resume: bool = typer.Option(
        False, "--resume", help="Continue a run that was stopped, keeping its results."
    ),
    reports: bool = typer.Option(True, "--reports/--no-reports", help="Write the HTML/Markdown reports."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    workers: int = typer.Option(1, min=1, help="Worker processes (LocalCluster workers for dask)."),
    engine: str = typer.Option("local", help="local (this machine) or dask."),
    scheduler: str = typer.Option(None, help="Address of a running Dask scheduler (tcp://host:8786)."),
    store: Path = typer.Option(None, help="DuckDB file to add the run's results to."),
    max_chars: int = typer.Option(
        1_000_000,
        "--max-chars",
        help="Longest text analysed, in characters (at most 1,000,000); longer ones are rejected.",
    ),
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
            workers=workers,
            engine=engine,
            scheduler=scheduler,
            store=store,
            max_chars=max_chars,
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


def _print_scores(scores: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title="Document labels: macro-F1 and coopted precision")
    for col in ("system", "macro-F1", "coopted P", "coopted R"):
        summary.add_column(col)
    for s in scores.values():
        summary.add_row(
            s.name,
            f"{s.macro_f1:.3f}",
            f"{s.per_label.loc['coopted', 'precision']:.3f}",
            f"{s.per_label.loc['coopted', 'recall']:.3f}",
        )
    console.print(summary)
    for s in scores.values():
        table = Table(title=f"{s.name}: per label")
        for col in ("label", "precision", "recall", "f1", "support"):
            table.add_column(col)
        for label, row in s.per_label.iterrows():
            cells = [f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}", str(int(row.support))]
            table.add_row(str(label), *cells)
        console.print(table)
        cm = Table(title=f"{s.name}: confusion (rows gold, columns predicted)")
        cm.add_column("gold")
        for label in s.confusion.columns:
            cm.add_column(str(label)[:9])
        for label, row in s.confusion.iterrows():
            cm.add_row(str(label), *[str(int(v)) for v in row])
        console.print(cm)


@app.command("train")
@handle_errors
def train_cli(
    gold: Path = typer.Option(Path("corpora/gold/documents"), help="Gold documents (train split is used)."),
    out: Path = typer.Option(None, help="Model file to write; default hrdiscourse/models/label_model.skops."),
    seed: bool = typer.Option(True, "--seed/--no-seed", help="Add the seed report as a critical document."),
    cv: bool = typer.Option(True, "--cv/--no-cv", help="Cross-validate the strategies on train first."),
    model: str = typer.Option("auto", help="spaCy pipeline name or path; 'auto' picks the installed one."),
    mode: str = typer.Option("full", help="Pipeline mode used to analyse the gold documents (as analyze)."),
    stance: bool = typer.Option(
        False,
        "--stance",
        help="Retrain the sentence stance model (critical flag) on the span gold instead; "
        "run it before the label model, whose features include the flags.",
    ),
) -> None:
    """Train the document-label model on the gold train split and write it with its sidecar."""
    from .classify import MODEL_PATH, save_model, train_from_gold
    from .nlp.pipeline import load_pipeline

    if stance:
        from .nlp.stance import STANCE_PATH
        from .nlp.stance_training import retrain

        stance_model = retrain(out=out or STANCE_PATH, cv=cv)
        typer.echo(
            f"trained the stance model on {stance_model.meta['n_train']} sentences; "
            f"wrote {out or STANCE_PATH}"
        )
        return

    nlp = load_pipeline(model, mode=mode)
    label_model, table = train_from_gold(gold, nlp, include_seed=seed, cv=cv)
    if table is not None:
        typer.echo("Cross-validation on the train split:")
        typer.echo(table.to_string())
    paths = save_model(label_model, out or MODEL_PATH)
    written = ", ".join(str(p) for p in paths)
    typer.echo(f"trained on {label_model.meta['n_train']} documents; wrote {written}")


def _default_span_gold() -> list[Path]:
    """The blind holdout first, then the tuning files (their old test/holdout splits), then French."""
    gold = Path("corpora/gold")
    names = (
        "spans_holdout4.jsonl",
        "spans.jsonl",
        "spans_holdout.jsonl",
        "spans_holdout2.jsonl",
        "spans_holdout3.jsonl",
        "spans_fr.jsonl",
    )
    return [gold / name for name in names if (gold / name).exists()]


def _evaluate_spans(paths: list[Path], *, split: str, model: str, mode: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from .evaluation import evaluate_spans, load_span_gold
    from .nlp.pipeline import load_pipeline

    console = Console()
    pipelines: dict[str, Any] = {}
    for path in paths:
        items = load_span_gold(path, split=None)
        languages = sorted({it.get("language") or "en" for it in items})
        splits = {it.get("split") for it in items}
        use_split = split if split in splits else sorted(s for s in splits if s)[0]
        for language in languages:
            if language not in pipelines:
                pipelines[language] = load_pipeline(
                    model if language == "en" else "auto", mode=mode, language=language
                )
            df = evaluate_spans(pipelines[language], path, split=use_split, language=language)
            table = Table(
                title=f"{path} [{language}, split {use_split}]: lenient (overlap) and strict matching"
            )
            for col in ("level", "name", "match", "P", "R", "F1", "support"):
                table.add_column(col)
            for row in df.itertuples():
                table.add_row(
                    row.level,
                    row.name,
                    row.match,
                    f"{row.precision:.3f}",
                    f"{row.recall:.3f}",
                    f"{row.f1:.3f}",
                    str(int(row.support)),
                )
            console.print(table)


@app.command("evaluate")
@handle_errors
def evaluate_cli(
    gold: Path = typer.Option(Path("corpora/gold/documents"), help="Folder of gold documents."),
    split: str = typer.Option("test", help="Split to score: test (held out) or train."),
    model_file: Path = typer.Option(None, "--model-file", help="Label model to score; default: shipped."),
    model: str = typer.Option("auto", help="spaCy pipeline name or path; 'auto' picks the installed one."),
    mode: str = typer.Option("full", help="Pipeline mode used to analyse the gold documents (as analyze)."),
    language: str = typer.Option("en", help="Gold documents of this language (en or fr)."),
    spans: bool = typer.Option(
        False, "--spans", help="Score span detection and context flags on the span gold instead of labels."
    ),
    span_gold: list[Path] = typer.Option(
        None,
        "--span-gold",
        help="Span gold files (default: corpora/gold/spans_holdout4.jsonl, spans.jsonl, "
        "spans_holdout.jsonl, spans_holdout2.jsonl, spans_holdout3.jsonl, spans_fr.jsonl).",
    ),
) -> None:
    """Score document labels (baseline, rules, model, combined) on a gold split, or spans with --spans."""
    from .classify import evaluate_gold, load_model
    from .nlp.pipeline import load_pipeline

    if spans:
        _evaluate_spans(span_gold or _default_span_gold(), split=split, model=model, mode=mode)
        return
    nlp = load_pipeline(model if language == "en" else "auto", mode=mode, language=language)
    label_model = load_model(model_file) if model_file else None
    if language != "en":
        typer.echo(
            f"{language}: documents are labelled by the rules in analyze (the model is trained on English)."
        )
    _print_scores(evaluate_gold(gold, nlp, split=split, model=label_model, language=language))


@app.command("audit")
@handle_errors
def audit_cli(
    file: Path = typer.Argument(..., help="Programme description, funding call or policy (.txt/.md)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of Markdown."),
    out: Path = typer.Option(None, "--out", help="Folder to write <name>.audit.md, .html and .json into."),
) -> None:
    """Audit a programme or policy against the report's section 5 core elements and incompatible list."""
    from .audit import audit

    if not file.is_file():
        _fail(f"{file}: no such file; give a text or Markdown file to audit.", 2)
    result = audit(file)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        stem = file.stem
        (out / f"{stem}.audit.md").write_text(result.to_markdown(), encoding="utf-8")
        (out / f"{stem}.audit.html").write_text(result.to_html(), encoding="utf-8")
        (out / f"{stem}.audit.json").write_text(result.to_json() + "\n", encoding="utf-8")
        typer.echo(f"overall: {result.overall}; wrote {out / (stem + '.audit.html')}")
        return
    typer.echo(result.to_json() if as_json else result.to_markdown())


@app.command("watch")
@handle_errors
def watch_cli(
    sources: list[str] = typer.Argument(..., help="Feed URLs (http/https), feed files, folders, JSONL."),
    store: Path = typer.Option(..., help="DuckDB file of items already seen (created if missing)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for new.jsonl and the what's-new report."),
    model: str = typer.Option("auto", help="spaCy pipeline name or path; 'auto' picks the installed one."),
    mode: str = typer.Option("default", help="default (fast pass, parser near mentions), full or fast."),
    timeout: float = typer.Option(20.0, help="Seconds allowed per URL connection and read."),
    max_mb: float = typer.Option(20.0, "--max-mb", help="Largest download accepted from a URL, in MB."),
    workers: int = typer.Option(1, min=1, help="Worker processes (LocalCluster workers for dask)."),
    engine: str = typer.Option("local", help="local (this machine) or dask."),
    scheduler: str = typer.Option(None, help="Address of a running Dask scheduler (tcp://host:8786)."),
) -> None:
    """Analyse only the items not yet in the store and write a what's-new report (co-opted first)."""
    from .watch import REPORT_HTML, watch

    result = watch(
        sources,
        store=store,
        out_dir=out,
        model=model,
        mode=mode,
        timeout=timeout,
        max_bytes=int(max_mb * 1_000_000),
        workers=workers,
        engine=engine,
        scheduler=scheduler,
    )
    typer.echo(
        f"{result.new} new ({result.labels.get('coopted', 0)} coopted), {result.known} already seen, "
        f"{result.errors} unreadable; what's new: {out / REPORT_HTML}"
    )
    if result.errors:
        typer.echo(f"Unreadable sources and reasons: {out / 'errors.jsonl'}", err=True)
        raise typer.Exit(EXIT_REJECTED)


@app.command("export")
@handle_errors
def export_cli(
    run_dir: Path = typer.Argument(..., help="Output folder of an earlier 'analyze' run."),
    format: str = typer.Option(..., "--format", "-f", help="csv, parquet, bibtex, csl-json or qdpx."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write; csv/parquet also write <stem>.spans.*"),
) -> None:
    """Export a run for spreadsheets, pandas, reference managers or QDA software (REFI-QDA)."""
    from .exports import export

    paths = export(run_dir, format, out)
    typer.echo(f"wrote {', '.join(str(p) for p in paths)}")


@app.command("sample")
@handle_errors
def sample_cli(
    run_dir: Path = typer.Argument(..., help="Output folder of an earlier 'analyze' run."),
    n: int = typer.Option(..., "--n", min=1, help="Documents to draw, stratified by the tool's label."),
    out: Path = typer.Option(..., "--out", "-o", help="Coding file (CSV) to write."),
    seed: int = typer.Option(0, help="Random seed; the same seed draws the same sample."),
) -> None:
    """Draw a stratified sample and write a coding file with an empty human_label column."""
    from .validation import sample

    table = sample(run_dir, n, seed=seed, out=out)
    typer.echo(f"wrote {len(table)} documents to {out}; fill in human_label, then run: hrdiscourse agreement")


@app.command("agreement")
@handle_errors
def agreement_cli(
    coding: Path = typer.Argument(..., help="Coding file from 'sample' with human_label filled in."),
) -> None:
    """Cohen's kappa, per-label precision/recall/F1 and the confusion matrix, tool against human."""
    from .validation import agreement

    result = agreement(coding)
    kappa = "undefined" if result.kappa != result.kappa else f"{result.kappa:.3f}"
    typer.echo(f"{result.n} coded documents ({result.skipped} rows without human_label skipped)")
    typer.echo(f"Cohen's kappa: {kappa}; agreement: {result.accuracy:.1%}")
    typer.echo("\nPer label (human label as reference):")
    typer.echo(result.per_label.round(3).to_string())
    typer.echo("\nConfusion (rows human, columns tool):")
    typer.echo(result.confusion.to_string())


def main() -> None:
    app()
