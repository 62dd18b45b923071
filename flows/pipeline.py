"""The conversion pipeline as plain Python (no Prefect): one document, one batch, one run.

Guarantees for batch migration:

- **Never lose a document.** Every input ends as a bundle, or in ``OUT/quarantine/`` (a copy
  of the file plus ``<stem>.reason.json``), and in the run report either way. A crash in one
  document's conversion (any exception) quarantines that document and the batch goes on.
- **Never duplicate.** Outputs are keyed by the document's content hash: a byte-identical
  file met twice (another name, another folder) is converted once and reported as a
  duplicate; bundle ids are deterministic, so a re-run rewrites identical bytes.
- **Resumable.** ``OUT/ledger.jsonl`` records each finished document (after its outputs are
  written and fsynced). A restarted run skips what the ledger holds; Parquet part files are
  keyed by their batch's content and compaction drops duplicate rows.
- **No health data in logs.** Logs carry document ids (sha256 prefixes), counts and reasons.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

import pyarrow as pa

from extractors.timing import stage
from models import ConversionOutcome, MappedResult, SourceDocument, WordSource

log = logging.getLogger("pdf2fhir")


@dataclass(frozen=True)
class Settings:
    out_dir: Path
    batch_size: int = 25
    workers: int = 2
    embed_pdf: bool = False  # presentedForm holds the PDF (base64) instead of pointing to it
    force_ocr: bool = False
    auto_accept: float = 0.90


@dataclass(frozen=True)
class DocResult:
    outcome: ConversionOutcome
    table: pa.Table | None = None


def doc_key(source: SourceDocument) -> str:
    return source.id[:16]


# ------------------------------------------------------------------ one document


def convert_document(path: Path, settings: Settings, stem: str | None = None) -> DocResult:
    """Convert one PDF; write its bundle; return the outcome and its Parquet rows.

    Never raises for bad input: failures are quarantined and returned as ``failed``.
    """
    from extractors.document import ExtractionError, extract_document, source_document
    from extractors.parse import parse_document
    from flows.writers import results_table, write_bundle
    from mappers.fhir import build_bundle, bundle_json
    from mappers.results import map_results

    try:
        data = path.read_bytes()
    except OSError as exc:
        src = SourceDocument(id="unreadable-" + sha256(str(path).encode()).hexdigest()[:16], uri=str(path), stem=stem or path.stem, sha256="", size=0)
        return DocResult(_quarantine(path, src, settings, "unreadable", f"cannot read the file ({type(exc).__name__})", copy=False))
    src = source_document(path, data).model_copy(update={"stem": stem or path.stem})
    try:
        with stage("open, text layer, routing"):  # OCR stages inside count apart
            doc = extract_document(path, force_ocr=settings.force_ocr, source=src)
        with stage("parse"):
            report = parse_document(doc, accept_label=_known_label)
        with stage("map"):
            results = map_results(report.rows, report.meta, report.decimal_comma)
            results = [_apply_threshold(r, settings.auto_accept) for r in results]
        if not results and report.meta.patient.family is None:
            return DocResult(_quarantine(path, doc.source, settings, "no-content", "no lab results and no patient block were found"))
        with stage("FHIR build and validate"):
            bundle = build_bundle(
                report,
                results,
                pdf_bytes=data if settings.embed_pdf else None,
                pdf_url=None if settings.embed_pdf else path.resolve().as_uri(),
            )
        with stage("write"):
            out_path = write_bundle(settings.out_dir, doc.source.stem, bundle_json(bundle))
            table = results_table(report, results)
    except ExtractionError as exc:
        return DocResult(_quarantine(path, src, settings, exc.reason, exc.message))
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        where = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
        return DocResult(_quarantine(path, src, settings, "internal-error", detail))

    needs = sum(r.review_status == "needs-review" for r in results)
    outcome = ConversionOutcome(
        source=doc.source,
        status="needs-review" if (needs or report.warnings) else "converted",
        reason=",".join(report.warnings) or None,
        bundle_path=str(out_path),
        results=len(results),
        needs_review=needs,
        pages=len(doc.pages),
        ocr_pages=sum(p.source is WordSource.OCR for p in doc.pages),
    )
    log.info("converted doc=%s results=%d review=%d pages=%d", doc_key(doc.source), len(results), needs, len(doc.pages))
    return DocResult(outcome, table)


def _apply_threshold(r: MappedResult, threshold: float) -> MappedResult:
    status = "auto-accepted" if r.confidence >= threshold else "needs-review"
    return r if r.review_status == status else r.model_copy(update={"review_status": status})


def _known_label(label: str) -> bool:
    from mappers.terminology import match_label

    m = match_label(label)
    return m is not None and m.score >= 0.85


def _quarantine(path: Path, src: SourceDocument, settings: Settings, reason: str, message: str, copy: bool = True) -> ConversionOutcome:
    from flows.writers import atomic_write_bytes

    qdir = settings.out_dir / "quarantine"
    qdir.mkdir(parents=True, exist_ok=True)
    if copy and path.exists():
        target = qdir / f"{src.stem}.pdf"
        tmp = target.with_suffix(".pdf.tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    note = {"document_id": src.id, "source": str(path), "reason": reason, "message": message}
    atomic_write_bytes(qdir / f"{src.stem}.reason.json", (json.dumps(note, indent=2) + "\n").encode())
    log.warning("quarantined doc=%s reason=%s", doc_key(src) if src.sha256 else src.id, reason)
    return ConversionOutcome(source=src, status="failed", reason=f"{reason}: {message}")


# ------------------------------------------------------------------ planning and batches


def discover(input_path: Path) -> list[Path]:
    """PDF-ish inputs under a folder (any file: a non-PDF gets quarantined, not ignored),
    sorted for a stable order. Hidden files and our own outputs are skipped."""
    if input_path.is_file():
        return [input_path]
    out = []
    for p in sorted(input_path.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(input_path).parts):
            if p.suffix.lower() in (".json", ".md", ".txt", ".csv", ".parquet"):
                continue  # sidecar files (ground truth, notes) are not documents
            out.append(p)
    return out


@dataclass
class Plan:
    todo: list[tuple[Path, str]]  # (path, output stem)
    done: dict[str, dict[str, Any]]  # document id -> ledger entry
    duplicates: dict[str, str]  # path -> document id it duplicates


def _file_id(p: Path) -> str:
    h = sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_ledger(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Ledger entries by document id (the last entry of a document wins). Lines that do
    not parse as an entry (a torn line left by a crash) are skipped: that document is
    redone by the next run."""
    from flows.writers import read_lines

    done: dict[str, dict[str, Any]] = {}
    for line in read_lines(out_dir / "ledger.jsonl"):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (  # parsable but not an entry (e.g. garbage after a crash): skipped too
            isinstance(entry, dict)
            and isinstance(entry.get("document_id"), str)
            and isinstance(entry.get("stem"), str)
            and isinstance(entry.get("outcome"), dict)
        ):
            done[entry["document_id"]] = entry
    return done


def plan_run(paths: Sequence[Path], out_dir: Path) -> Plan:
    done = read_ledger(out_dir)
    seen: dict[str, Path] = {}
    stems: set[str] = {e["stem"] for e in done.values()}
    todo: list[tuple[Path, str]] = []
    dups: dict[str, str] = {}
    for p in paths:
        try:
            fid = _file_id(p)
        except OSError:
            todo.append((p, p.stem))
            continue
        if fid in seen or fid in done:
            if fid in seen:
                dups[str(p)] = fid
            continue
        seen[fid] = p
        stem = p.stem
        if stem in stems:
            stem = f"{stem}-{fid[:8]}"
        stems.add(stem)
        todo.append((p, stem))
    return Plan(todo=todo, done=done, duplicates=dups)


def _convert_star(args: tuple[Path, Settings, str]) -> DocResult:
    return convert_document(args[0], args[1], args[2])


def _init_worker() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


_FHIR_TYPES = ("bundle", "composition", "device", "diagnosticreport", "observation", "organization", "patient",
               "provenance", "specimen")


def warm_up() -> None:
    """Load, once per process, what every document needs: rule lexicon, terminology, unit
    table (each UCUM-validated), the UCUM unit registry (1.2 s to build; OCR rows whose unit
    was lost are inferred with it), stop-word lists, the FHIR model classes and the modules a
    conversion imports lazily (pyarrow's pandas among them).

    Called in the parent before a worker pool is made, so forked workers inherit it instead
    of each paying it on its first document (3.3 s per worker before, measured; the tesseract
    models stay per worker: they are not safe to share across a fork). Idempotent."""
    import importlib

    from extractors.language import language_scores
    from extractors.ocr import language_cues
    from extractors.rules import lexicon
    from mappers.terminology import load_terminology, match_label
    from mappers.units import load_units, units_equal

    lexicon()
    language_cues()
    language_scores(["warm"])
    load_terminology()
    match_label("Hémoglobine")
    load_units()
    units_equal("10*9/L", "/nL")
    for name in _FHIR_TYPES:
        importlib.import_module(f"fhir.resources.R4B.{name}")
    for module in ("extractors.document", "extractors.parse", "mappers.results", "mappers.fhir"):
        importlib.import_module(module)
    from flows.writers import OBSERVATION_SCHEMA

    pa.Table.from_pylist([], schema=OBSERVATION_SCHEMA)  # pyarrow imports pandas on first use


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone or unreadable: the conversion itself reports it
        return 0


def convert_batch(items: Sequence[tuple[Path, str]], settings: Settings, pool: ProcessPoolExecutor | None = None) -> list[DocResult]:
    """Convert a batch, in worker processes when ``settings.workers > 1``; then write the
    batch's Parquet part and append the ledger (in that order: a crash in between redoes
    the batch, whose part file has the same name and is overwritten)."""
    from flows.writers import write_part

    args = [(p, settings, stem) for p, stem in items]
    warm_up()
    if pool is not None or (settings.workers > 1 and len(items) > 1):
        # largest files first: the batch ends when its last document does, and a long scan
        # started last would leave the other workers idle (results keep the batch's order)
        order = sorted(range(len(args)), key=lambda i: -_file_size(args[i][0]))
        if pool is not None:
            done = list(pool.map(_convert_star, [args[i] for i in order]))
        else:
            with ProcessPoolExecutor(max_workers=settings.workers, initializer=_init_worker) as ex:
                done = list(ex.map(_convert_star, [args[i] for i in order]))
        results = [r for _, r in sorted(zip(order, done), key=lambda pair: pair[0])]
    else:
        results = [_convert_star(a) for a in args]
    tables = [r.table for r in results if r.table is not None and r.table.num_rows]
    batch_id = sha256("".join(r.outcome.source.id for r in results).encode()).hexdigest()[:16]
    if tables:
        write_part(settings.out_dir, batch_id, tables)
    _append_ledger(settings.out_dir, results)
    return results


def _append_ledger(out_dir: Path, results: Iterable[DocResult]) -> None:
    """Append one line per finished document (locked, fsync'ed; a torn last line left
    by a crash is terminated first so that it cannot swallow the new entries)."""
    from flows.writers import append_lines

    lines = [
        json.dumps({"document_id": r.outcome.source.id, "stem": r.outcome.source.stem, "outcome": r.outcome.model_dump(mode="json")})
        for r in results
    ]
    append_lines(out_dir / "ledger.jsonl", lines)


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def finalize(settings: Settings, plan: Plan, started: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compact Parquet parts into ``observations.parquet`` and write the run report, from
    the ledger (so a resumed run reports every document, not just the last session's).

    Each document counts once (its last ledger entry), and ``observations.parquet`` holds
    the rows of exactly the ledger's converted documents, once each: rows that a crashed
    run left in a part file for a document it never recorded, or that a redone document
    now lacks (it failed this time), are not compacted."""
    from flows.writers import compact_parts, write_run_report

    outcomes: dict[str, ConversionOutcome] = {}
    for doc_id, entry in read_ledger(settings.out_dir).items():
        outcomes[doc_id] = ConversionOutcome.model_validate(entry["outcome"])
    converted = {doc_id for doc_id, o in outcomes.items() if o.status != "failed"}
    parts = settings.out_dir / "observations"
    if parts.exists() and any(parts.glob("part-*.parquet")):
        compact_parts(settings.out_dir, keep_documents=converted)
    info: dict[str, Any] = {
        "duplicates": plan.duplicates,
        "elapsed_seconds": round(time.perf_counter() - started, 3),
        "settings": {"batch_size": settings.batch_size, "workers": settings.workers, "auto_accept": settings.auto_accept},
    }
    info.update(extra or {})
    path = write_run_report(settings.out_dir, list(outcomes.values()), info)
    return json.loads(path.read_text(encoding="utf-8"))


def run_local(
    input_path: Path,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Convert a folder without Prefect (the Prefect flow wraps the same steps)."""
    started = time.perf_counter()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_run(discover(input_path), settings.out_dir)
    total = len(plan.todo)
    done = 0
    warm_up()
    pool = ProcessPoolExecutor(max_workers=settings.workers, initializer=_init_worker) if settings.workers > 1 and total > 1 else None
    try:
        for batch in batches(plan.todo, settings.batch_size):
            convert_batch(batch, settings, pool)
            done += len(batch)
            if progress:
                progress(done, total)
    finally:
        if pool is not None:
            pool.shutdown()
    return finalize(settings, plan, started)
