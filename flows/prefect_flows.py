"""Prefect 3 flows: thin wrappers around ``flows.pipeline``.

One task run per *batch* of documents (``batch_size``), not per document: Prefect records
every task run, and millions of one-document runs would swamp its database. Retries sit on
the batch task; a batch is idempotent (deterministic outputs, ledger, content-keyed Parquet
part), so a retry or a restarted flow never duplicates a document.

Run locally with ``pdf2fhir run INPUT --out OUT`` (no server to start: Prefect runs the flow
against a temporary local API). Schedule nightly with ``pdf2fhir serve INPUT --out OUT
--cron "0 2 * * *"``: the ledger makes every run incremental.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.logging import get_run_logger

from flows import pipeline
from flows.pipeline import Settings

# Progress callback for the CLI (same process; not a flow parameter, so it is not
# serialised into Prefect's parameter store).
_progress: Callable[[int, int], None] | None = None


def set_progress(cb: Callable[[int, int], None] | None) -> None:
    global _progress
    _progress = cb


@task(name="plan-run", retries=0, cache_policy=NO_CACHE)
def plan_task(input_path: str, out_dir: str) -> pipeline.Plan:
    return pipeline.plan_run(pipeline.discover(Path(input_path)), Path(out_dir))


@task(name="convert-batch", retries=2, cache_policy=NO_CACHE, retry_delay_seconds=10, task_run_name="convert-batch-{index}")
def convert_batch_task(index: int, items: list[tuple[str, str]], settings: Settings) -> dict[str, int]:
    results = pipeline.convert_batch([(Path(p), s) for p, s in items], settings)
    counts: dict[str, int] = {"documents": len(results)}
    for r in results:
        counts[r.outcome.status] = counts.get(r.outcome.status, 0) + 1
    return counts


@task(name="finalize-run", cache_policy=NO_CACHE)
def finalize_task(settings: Settings, plan: pipeline.Plan, started: float) -> dict[str, Any]:
    return pipeline.finalize(settings, plan, started, {"orchestrator": "prefect"})


@flow(name="pdf2fhir-convert-folder", log_prints=False, validate_parameters=False)
def convert_folder(
    input_path: str,
    out_dir: str,
    batch_size: int = 25,
    workers: int = 2,
    embed_pdf: bool = False,
    force_ocr: bool = False,
    auto_accept: float = 0.90,
) -> dict[str, Any]:
    """Convert every document under ``input_path`` into ``out_dir`` (incremental)."""
    logger = get_run_logger()
    started = time.perf_counter()
    settings = Settings(
        out_dir=Path(out_dir), batch_size=batch_size, workers=workers,
        embed_pdf=embed_pdf, force_ocr=force_ocr, auto_accept=auto_accept,
    )
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_task(input_path, out_dir)
    logger.info("documents to convert: %d (already done: %d, duplicates: %d)", len(plan.todo), len(plan.done), len(plan.duplicates))
    done = 0
    for i, batch in enumerate(pipeline.batches(plan.todo, batch_size)):
        counts = convert_batch_task(i, [(str(p), s) for p, s in batch], settings)
        done += counts["documents"]
        logger.info("batch %d: %s", i, counts)
        if _progress:
            _progress(done, len(plan.todo))
    report = finalize_task(settings, plan, started)
    logger.info(
        "run finished: in=%d converted=%d review=%d failed=%d",
        report["documents_in"], report["converted"], report["needing_review"], report["failed"],
    )
    return report
