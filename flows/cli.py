"""``pdf2fhir`` command line: run, eval, bench, generate, terminology."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Legacy lab-report PDFs -> EU Laboratory Report FHIR documents.")
console = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@app.command()
def run(
    input_path: Path = typer.Argument(..., exists=True, help="A PDF or a folder of PDFs"),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder"),
    batch_size: int = typer.Option(25, help="Documents per Prefect task run"),
    workers: int = typer.Option(2, help="Worker processes (OCR is single-threaded per process)"),
    embed_pdf: bool = typer.Option(False, help="Embed the PDF in DiagnosticReport.presentedForm instead of pointing to it"),
    force_ocr: bool = typer.Option(False, help="OCR every page even when a text layer exists"),
    auto_accept: float = typer.Option(0.90, help="Confidence at or above which a result needs no review"),
    prefect: bool = typer.Option(True, "--prefect/--no-prefect", help="Run as a Prefect flow (default) or as plain Python"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Convert INPUT into OUT/bundles/*.json, OUT/observations.parquet, OUT/run_report.json."""
    _setup_logging(verbose)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from flows.pipeline import Settings, run_local

    settings = Settings(out_dir=out, batch_size=batch_size, workers=workers, embed_pdf=embed_pdf, force_ocr=force_ocr, auto_accept=auto_accept)
    with Progress(TextColumn("[bold]converting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("docs", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if prefect:
            # local, unattended: no telemetry (nothing leaves the machine), patient start-up
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            os.environ.setdefault("DO_NOT_TRACK", "1")
            os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
            os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
            from flows.prefect_flows import convert_folder, set_progress

            set_progress(progress)
            report = convert_folder(
                str(input_path), str(out), batch_size=batch_size, workers=workers,
                embed_pdf=embed_pdf, force_ocr=force_ocr, auto_accept=auto_accept,
            )
        else:
            report = run_local(input_path, settings, progress)
    _print_summary(report, out)
    if report["documents_in"] and report["failed"] == report["documents_in"]:
        raise typer.Exit(code=2)


def _print_summary(report: dict, out: Path) -> None:
    from rich.table import Table

    t = Table(title=f"pdf2fhir run -> {out}")
    for col in ("documents", "converted", "needing review", "failed", "results", "results to review", "pages", "OCR pages", "seconds"):
        t.add_column(col, justify="right")
    t.add_row(
        str(report["documents_in"]), str(report["converted"]), str(report["needing_review"]), str(report["failed"]),
        str(report["results"]), str(report["results_needing_review"]), str(report["pages"]), str(report["ocr_pages"]),
        f"{report.get('elapsed_seconds', 0):.1f}",
    )
    Console().print(t)
    if report["failed"]:
        Console().print(f"[yellow]{report['failed']} document(s) quarantined in {out / 'quarantine'} (reasons in run_report.json)")


@app.command("eval")
def eval_cmd(
    truth: Path = typer.Option(..., exists=True, help="Folder of <stem>.truth.json"),
    pred: Path = typer.Option(..., exists=True, help="Output folder of a run (bundles/)"),
    threshold: float = typer.Option(0.90, help="Auto-accept threshold for calibration"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Strict observation P/R/F1, field accuracy and calibration against ground truth."""
    from flows.evaluate import evaluate, render_report, report_json

    report = evaluate(truth, pred, threshold)
    sys.stdout.write(report_json(report) if as_json else render_report(report))


@app.command()
def bench(
    input_path: Path = typer.Argument(Path("seeds/sample"), exists=True),
    out: Path = typer.Option(Path("out-bench"), "--out"),
    repeat: int = typer.Option(1, help="Passes over the input"),
    rounds: int = typer.Option(1, help="Interleaved rounds of every measurement; the fastest of each is reported"),
    ocr: bool = typer.Option(False, "--ocr", help="Also benchmark OCR (scanned inputs; 1 and 2 workers; bare tesseract)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pages per second and peak memory: full pipeline next to raw pdfplumber (and OCR)."""
    from flows.bench import run_bench

    result = run_bench(input_path, out, repeat=repeat, ocr=ocr, rounds=rounds)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")


@app.command()
def generate(
    out: Path = typer.Option(..., "--out"),
    n: int = typer.Option(60, "--n"),
    seed: int = typer.Option(7, "--seed"),
    scanned: bool = typer.Option(False, "--scanned", help="Write scanned variants (image-only PDFs), one scan profile per document in turn"),
    scanned_only: bool = typer.Option(False, "--scanned-only", help="Keep only the scanned variants"),
) -> None:
    """Synthetic lab reports with exact ground truth (see seeds/README.md)."""
    from seeds.generate import generate as gen

    paths = gen(out, n=n, seed=seed)
    console.print(f"wrote {len(paths)} documents to {out}")
    if scanned or scanned_only:
        from seeds.scan import scan_dir

        scans = scan_dir(out, out, seed=seed, cycle=True)
        console.print(f"wrote {len(scans)} scanned variants")
        if scanned_only:
            for p in paths:
                p.unlink()
                p.with_name(p.stem + ".truth.json").unlink(missing_ok=True)


@app.command()
def terminology() -> None:
    """Validate the terminology tables (LOINC check digits, UCUM validity, cross-checks)."""
    from mappers.terminology import validate_tables

    problems = validate_tables()
    for p in problems:
        console.print(f"[red]{p}")
    console.print(f"{len(problems)} problem(s)")
    raise typer.Exit(code=1 if problems else 0)


if __name__ == "__main__":  # pragma: no cover
    app()
