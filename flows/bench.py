"""Benchmark: pages per second and peak memory of the whole pipeline next to its raw parts.

Each measurement runs in a fresh child process, so peak RSS (``ru_maxrss``) belongs to that
measurement alone and imports are paid the same way a batch worker pays them (reported
separately as start-up).

Measurements (digital inputs):
- ``pdfplumber-words``: ``pdfplumber.open`` + ``page.extract_words()`` per page — the raw
  floor of text-layer extraction;
- ``pipeline``: ``flows.pipeline.convert_document`` per file (extract, parse, map, FHIR,
  bundle write), one process.
With ``--ocr`` (scanned inputs): ``tesseract-cli`` (the same page images, same language,
``--psm 6``, ``OMP_THREAD_LIMIT=1``, 1 and 2 parallel processes) against ``pipeline-ocr``
(1 and 2 worker processes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

_CHILD = r"""
import json, resource, sys, time, os
from pathlib import Path
mode, files, out, workers = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t_import = time.perf_counter()
if mode == "pdfplumber-words":
    import pdfplumber
elif mode.startswith("pipeline"):
    from flows.pipeline import Settings, convert_document, convert_batch
    import extractors.document, extractors.parse, mappers.results, mappers.fhir, flows.writers
    from mappers.terminology import match_label; match_label("Hémoglobine")
import_s = time.perf_counter() - t_import
pages = 0
t0 = time.perf_counter()
if mode == "pdfplumber-words":
    for f in files:
        with pdfplumber.open(f) as pdf:
            for p in pdf.pages:
                p.extract_words(); pages += 1
elif mode == "pipeline":
    s = Settings(out_dir=Path(out), workers=1)
    for f in files:
        r = convert_document(Path(f), s)
        pages += r.outcome.pages
elif mode == "pipeline-ocr":
    s = Settings(out_dir=Path(out), workers=workers, batch_size=len(files))
    res = convert_batch([(Path(f), Path(f).stem) for f in files], s)
    pages = sum(r.outcome.pages for r in res)
elapsed = time.perf_counter() - t0
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"mode": mode, "pages": pages, "seconds": elapsed, "import_seconds": import_s, "peak_rss_mb": rss / 1024}))
"""


def _child(mode: str, files: list[str], out: Path, workers: int = 1) -> dict[str, Any]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, json.dumps(files), str(out), str(workers)],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {mode} failed: {proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["pages_per_second"] = res["pages"] / res["seconds"] if res["seconds"] else 0.0
    res["workers"] = workers
    return res


def _pdfs(input_path: Path) -> list[str]:
    if input_path.is_file():
        return [str(input_path)]
    return [str(p) for p in sorted(input_path.rglob("*.pdf"))]


def _tesseract_cli(files: list[str], workers: int, lang: str = "fra", dpi: int = 300) -> dict[str, Any]:
    """Bare tesseract on the same pages, rendered at the same dpi as the pipeline."""
    from concurrent.futures import ThreadPoolExecutor

    from extractors.render import render_page

    import pypdfium2 as pdfium

    tmp = Path(tempfile.mkdtemp(prefix="pdf2fhir-bench-"))
    images: list[Path] = []
    for f in files:
        n = len(pdfium.PdfDocument(f))
        for i in range(n):
            r = render_page(Path(f), i, dpi)
            p = tmp / f"{Path(f).stem}-{i}.png"
            r.image.save(p)
            images.append(p)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(img: Path) -> None:
        subprocess.run(["tesseract", str(img), "stdout", "-l", lang, "--oem", "1", "--psm", "6", "tsv"],
                       capture_output=True, env=env, check=True)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(one, images))
    elapsed = time.perf_counter() - t0
    return {"mode": "tesseract-cli", "workers": workers, "pages": len(images), "seconds": elapsed,
            "pages_per_second": len(images) / elapsed, "peak_rss_mb": None, "import_seconds": 0.0}


def run_bench(input_path: Path, out: Path, repeat: int = 1, ocr: bool = False) -> dict[str, Any]:
    files = _pdfs(input_path) * max(1, repeat)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    if not ocr:
        rows.append(_child("pdfplumber-words", files, out))
        rows.append(_child("pipeline", files, out))
    else:
        for w in (1, 2):
            rows.append(_tesseract_cli(files, w))
            rows.append(_child("pipeline-ocr", files, out / f"w{w}", w))
    table = Table(title=f"pdf2fhir bench: {len(files)} files from {input_path}")
    for col in ("measurement", "workers", "pages", "seconds", "pages/s", "s/page", "start-up s", "peak RSS MB"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["mode"], str(r["workers"]), str(r["pages"]), f"{r['seconds']:.2f}", f"{r['pages_per_second']:.2f}",
            f"{r['seconds'] / max(1, r['pages']):.3f}", f"{r['import_seconds']:.2f}",
            "-" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f}",
        )
    Console().print(table)
    summary: dict[str, Any] = {"files": len(files), "measurements": rows}
    if not ocr:
        raw, full = rows[0], rows[1]
        summary["pipeline_over_raw"] = full["seconds"] / raw["seconds"] if raw["seconds"] else None
        Console().print(f"pipeline time / raw pdfplumber time: {summary['pipeline_over_raw']:.2f}x")
    else:
        for w in (1, 2):
            cli = next(r for r in rows if r["mode"] == "tesseract-cli" and r["workers"] == w)
            pipe = next(r for r in rows if r["mode"] == "pipeline-ocr" and r["workers"] == w)
            summary[f"ocr_overhead_w{w}"] = pipe["seconds"] / cli["seconds"] - 1.0
            Console().print(f"{w} worker(s): pipeline adds {100 * summary[f'ocr_overhead_w{w}']:.1f}% to bare tesseract")
    return summary
