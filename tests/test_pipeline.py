"""Batch guarantees of ``flows.pipeline`` (plain Python, no Prefect): bad input is
quarantined with a reason and never stops a batch, duplicates are converted once, re-runs
are incremental and byte-identical, a crashed run resumes without loss or duplication,
and logs carry no health data."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from pdfkit import PageSpec, Text, build_pdf, good_report
from flows import writers
from flows.pipeline import Settings, convert_document, read_ledger, run_local

ROOT = Path(__file__).resolve().parents[1]


def settings(out: Path, **kw: object) -> Settings:
    return Settings(out_dir=out, workers=1, **kw)  # type: ignore[arg-type]


def bundles(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "bundles").glob("*.json"))}


# ------------------------------------------------------------------ bad input


def _bad_inputs(folder: Path, good: Path) -> dict[str, str]:
    """Write one file per kind of bad input; return {file name: expected reason}."""
    data = good.read_bytes()
    (folder / "not-a-pdf.pdf").write_bytes(b"Bonjour, ceci n'est pas un PDF.\n" * 10)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    build_pdf(folder / "huge-page.pdf", [PageSpec([Text(50, 100, "Sodium 141 mmol/l")], size=(3000.0, 3000.0))])
    expected = {
        "not-a-pdf.pdf": "not-a-pdf",
        "empty.pdf": "empty-file",
        "truncated.pdf": "corrupt",
        "corrupt.pdf": "corrupt",
        "huge-page.pdf": "page-too-large",
    }
    if shutil.which("qpdf"):
        subprocess.run(["qpdf", "--encrypt", "user", "owner", "256", "--", str(good), str(folder / "encrypted.pdf")], check=True)
        subprocess.run(["qpdf", "--empty", str(folder / "no-pages.pdf")], check=True)
        expected |= {"encrypted.pdf": "encrypted", "no-pages.pdf": "no-pages"}
    return expected


def test_bad_inputs_are_quarantined_with_a_reason_and_the_batch_goes_on(tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    good_report(inbox / "a-good.pdf")
    expected = _bad_inputs(inbox, inbox / "a-good.pdf")
    good_report(inbox / "z-good.pdf", 1)  # after the bad ones in discovery order

    report = run_local(inbox, settings(out, batch_size=3))

    assert report["documents_in"] == len(expected) + 2
    assert report["failed"] == len(expected)
    assert set(bundles(out)) == {"a-good.json", "z-good.json"}
    by_stem = {d["stem"]: d for d in report["documents"]}
    for name, reason in expected.items():
        stem = Path(name).stem
        note = json.loads((out / "quarantine" / f"{stem}.reason.json").read_text())
        assert note["reason"] == reason, name
        assert (out / "quarantine" / name).read_bytes() == (inbox / name).read_bytes()  # a copy, intact
        assert by_stem[stem]["status"] == "failed"
        assert by_stem[stem]["reason"].startswith(reason)
        assert report["failures"][note["document_id"]].startswith(reason)


def test_encrypted_pdf_without_user_password_is_readable(tmp_path: Path) -> None:
    if not shutil.which("qpdf"):
        pytest.skip("qpdf not installed")
    good = good_report(tmp_path / "plain.pdf")
    enc = tmp_path / "owner-only.pdf"
    subprocess.run(["qpdf", "--encrypt", "", "owner", "256", "--", str(good), str(enc)], check=True)
    r = convert_document(enc, settings(tmp_path / "out"))
    assert r.outcome.status != "failed"
    assert r.outcome.results == 3


def test_an_internal_error_quarantines_one_document_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.parse

    real = extractors.parse.parse_document

    def flaky(doc, accept_label=None):  # type: ignore[no-untyped-def]
        if doc.source.stem == "boom":
            raise ZeroDivisionError("simulated parser bug")
        return real(doc, accept_label=accept_label)

    monkeypatch.setattr(extractors.parse, "parse_document", flaky)
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    good_report(inbox / "boom.pdf")
    good_report(inbox / "fine.pdf", 1)
    report = run_local(inbox, settings(out, batch_size=5))
    assert report["failed"] == 1 and report["converted"] == 1
    note = json.loads((out / "quarantine" / "boom.reason.json").read_text())
    assert note["reason"] == "internal-error"
    assert "ZeroDivisionError" in note["message"]


def test_a_page_without_results_or_patient_is_quarantined_as_no_content(tmp_path: Path) -> None:
    path = build_pdf(tmp_path / "letter.pdf", [PageSpec([Text(50, 100, "Madame, Monsieur, veuillez trouver ci-joint notre facture.")])])
    r = convert_document(path, settings(tmp_path / "out"))
    assert r.outcome.status == "failed"
    assert json.loads((tmp_path / "out" / "quarantine" / "letter.reason.json").read_text())["reason"] == "no-content"


def test_sidecar_and_hidden_files_are_not_documents(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    good_report(inbox / "a.pdf")
    (inbox / "a.truth.json").write_text("{}")
    (inbox / ".DS_Store").write_bytes(b"\0\0")
    report = run_local(inbox, settings(tmp_path / "out"))
    assert report["documents_in"] == 1 and report["failed"] == 0


# ------------------------------------------------------------------ duplicates, incremental, deterministic


def test_same_bytes_under_two_names_are_converted_once(tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    (inbox / "sub").mkdir(parents=True)
    good_report(inbox / "a.pdf")
    shutil.copyfile(inbox / "a.pdf", inbox / "sub" / "copy-of-a.pdf")
    report = run_local(inbox, settings(out))
    assert report["documents_in"] == 1
    assert list(bundles(out)) == ["a.json"]
    assert list(report["duplicates"]) == [str(inbox / "sub" / "copy-of-a.pdf")]
    table = pq.read_table(out / "observations.parquet")
    assert table.num_rows == 3


def test_same_stem_in_two_folders_gets_two_bundles(tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    (inbox / "x").mkdir(parents=True)
    (inbox / "y").mkdir()
    good_report(inbox / "x" / "report.pdf", 1)
    good_report(inbox / "y" / "report.pdf", 2)
    report = run_local(inbox, settings(out))
    assert report["documents_in"] == 2
    assert len(bundles(out)) == 2


def test_rerun_is_incremental_and_outputs_are_byte_identical(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(3):
        good_report(inbox / f"r{i}.pdf", i)
    out = tmp_path / "out"
    first = run_local(inbox, settings(out, batch_size=2))
    before = bundles(out)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "bundles").glob("*.json")}
    ledger_lines = (out / "ledger.jsonl").read_text().splitlines()

    second = run_local(inbox, settings(out, batch_size=2))
    assert bundles(out) == before
    assert {p: p.stat().st_mtime_ns for p in (out / "bundles").glob("*.json")} == mtimes  # not rewritten
    assert (out / "ledger.jsonl").read_text().splitlines() == ledger_lines  # nothing redone
    assert second["documents_in"] == first["documents_in"] == 3

    # a fresh run elsewhere produces the same bytes (deterministic ids and content)
    fresh = tmp_path / "out2"
    run_local(inbox, settings(fresh, batch_size=1))
    assert bundles(fresh) == before


def test_a_batch_in_workers_starts_the_largest_file_first_and_keeps_its_order(tmp_path: Path) -> None:
    """Workers take the largest file first (the batch ends when its last document does);
    results, ledger and Parquet rows keep the batch's own order, and the outputs are the
    ones a single process writes."""
    from concurrent.futures import ThreadPoolExecutor

    from flows.pipeline import convert_batch

    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(3):
        good_report(inbox / f"r{i}.pdf", i)
    big = inbox / "r1.pdf"
    big.write_bytes(big.read_bytes() + b"\n%" + b"padding" * 4000 + b"\n")  # trailing bytes: still the same report
    items = [(inbox / f"r{i}.pdf", f"r{i}") for i in range(3)]

    class Recording(ThreadPoolExecutor):  # the pool the Prefect flow hands in; records the order it is fed
        fed: list[str] = []

        def map(self, fn, *iterables, **kw):  # type: ignore[no-untyped-def, override]
            args = list(iterables[0])
            Recording.fed = [a[2] for a in args]
            return super().map(fn, args, **kw)

    with Recording(max_workers=2) as pool:
        results = convert_batch(items, settings(tmp_path / "pooled"), pool=pool)  # type: ignore[arg-type]
    assert Recording.fed[0] == "r1"
    assert [r.outcome.source.stem for r in results] == ["r0", "r1", "r2"]
    ledger = [json.loads(line)["stem"] for line in (tmp_path / "pooled" / "ledger.jsonl").read_text().splitlines()]
    assert ledger == ["r0", "r1", "r2"]
    alone = convert_batch(items, settings(tmp_path / "alone"))
    assert [r.outcome.model_dump(exclude={"bundle_path"}) for r in alone] == [r.outcome.model_dump(exclude={"bundle_path"}) for r in results]
    assert bundles(tmp_path / "alone") == bundles(tmp_path / "pooled")


def test_new_documents_are_added_incrementally(tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    good_report(inbox / "r0.pdf", 0)
    run_local(inbox, settings(out))
    good_report(inbox / "r1.pdf", 1)
    report = run_local(inbox, settings(out))
    assert report["documents_in"] == 2
    assert len(read_ledger(out)) == 2
    table = pq.read_table(out / "observations.parquet").to_pylist()
    assert len({r["document_id"] for r in table}) == 2


# ------------------------------------------------------------------ crash and resume


def _assert_each_document_once(out: Path, n_docs: int, rows_per_doc: int = 3) -> None:
    rows = pq.read_table(out / "observations.parquet").to_pylist()
    keys = [(r["document_id"], r["row_index"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate (document_id, row_index) rows"
    assert len({r["document_id"] for r in rows}) == n_docs
    assert len(rows) == n_docs * rows_per_doc
    report = json.loads((out / "run_report.json").read_text())
    ids = [d["document_id"] for d in report["documents"]]
    assert len(ids) == len(set(ids)) == n_docs
    assert report["documents_in"] == n_docs
    assert len(bundles(out)) == n_docs


def _four_docs_converted(tmp_path: Path, batch_size: int) -> tuple[Path, Path]:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for i in range(4):
        good_report(inbox / f"r{i}.pdf", i)
    run_local(inbox, settings(out, batch_size=batch_size))
    return inbox, out


def _crash(out: Path, ledger_text: str) -> None:
    """Leave OUT as a crashed run would: ledger as given, no compacted table, no report."""
    (out / "ledger.jsonl").write_text(ledger_text)
    (out / "run_report.json").unlink()
    (out / "observations.parquet").unlink()


def test_resume_after_a_crash_between_part_and_ledger(tmp_path: Path) -> None:
    # the second batch's Parquet part was written, its ledger lines were not
    inbox, out = _four_docs_converted(tmp_path, batch_size=2)
    lines = (out / "ledger.jsonl").read_text().splitlines(keepends=True)
    _crash(out, "".join(lines[:2]))
    run_local(inbox, settings(out, batch_size=2))
    _assert_each_document_once(out, 4)


def test_resume_after_a_torn_ledger_line(tmp_path: Path) -> None:
    inbox, out = _four_docs_converted(tmp_path, batch_size=2)
    lines = (out / "ledger.jsonl").read_text().splitlines(keepends=True)
    _crash(out, "".join(lines[:2]) + lines[2][: len(lines[2]) // 2])  # killed mid-write
    run_local(inbox, settings(out, batch_size=2))
    _assert_each_document_once(out, 4)


def test_resume_when_the_redone_batch_differs_from_the_crashed_one(tmp_path: Path) -> None:
    inbox, out = _four_docs_converted(tmp_path, batch_size=4)
    lines = (out / "ledger.jsonl").read_text().splitlines(keepends=True)
    _crash(out, "".join(lines[:3]))  # 3 of the batch's 4 ledger lines reached the disk
    run_local(inbox, settings(out, batch_size=4))
    _assert_each_document_once(out, 4)


_CHILD = """
import sys
from pathlib import Path
from flows.pipeline import Settings, run_local
run_local(Path(sys.argv[1]), Settings(out_dir=Path(sys.argv[2]), batch_size=1, workers=1))
"""


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    n = 6
    for i in range(n):
        good_report(inbox / f"r{i}.pdf", i)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(inbox), str(out)], env=env, cwd=ROOT, start_new_session=True)
    ledger = out / "ledger.jsonl"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ledger.exists() and ledger.read_text().count("\n") >= 1:
                os.killpg(proc.pid, signal.SIGKILL)  # mid-run: after the first batch
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    done_before = len(read_ledger(out))
    assert 1 <= done_before < n, "the child was not stopped mid-run"

    # same batch size: the interrupted document is redone alone, as in the killed run
    run_local(inbox, settings(out, batch_size=1))
    _assert_each_document_once(out, n)


# ------------------------------------------------------------------ no health data in logs


def test_logs_carry_no_patient_names_or_values(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="pdf2fhir")
    inbox = tmp_path / "in"
    inbox.mkdir()
    good_report(inbox / "doc.pdf", family="KIRSCHFELD", given="Evelyne", value="13,9")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\nKIRSCHFELD Evelyne 13,9\n")  # a quarantined one too
    run_local(inbox, settings(tmp_path / "out"))
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "converted doc=" in text and "quarantined doc=" in text  # the logs were captured
    for secret in ("KIRSCHFELD", "Kirschfeld", "Evelyne", "13,9", "13.9", "1962"):
        assert secret not in text
    assert "Hémoglobine" in (tmp_path / "out" / "bundles" / "doc.json").read_text()  # not an empty conversion


# ------------------------------------------------------------------ ledger appends and compaction (units)


def _entry_line(doc_id: str) -> str:
    src = {"id": doc_id, "uri": f"/in/{doc_id}.pdf", "stem": doc_id, "sha256": doc_id, "size": 1}
    return json.dumps({"document_id": doc_id, "stem": doc_id, "outcome": {"source": src, "status": "converted"}})


def test_an_append_after_a_torn_line_keeps_the_fragment_on_its_own_line(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    first, torn = _entry_line("a"), _entry_line("b")
    ledger.write_text(first + "\n" + torn[: len(torn) // 2])
    writers.append_lines(ledger, [_entry_line("c"), _entry_line("d")])
    writers.append_lines(ledger, [_entry_line("e")])  # a clean end: no blank line added
    assert ledger.read_text().split("\n") == [first, torn[: len(torn) // 2], _entry_line("c"), _entry_line("d"), _entry_line("e"), ""]
    assert sorted(read_ledger(tmp_path)) == ["a", "c", "d", "e"]


def test_read_ledger_skips_lines_that_are_not_entries(tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").write_bytes(b"\x00\x00\x00\n[1, 2]\n{\"document_id\": 3}\n\xff\xfe{\n" + _entry_line("a").encode() + b"\n")
    assert list(read_ledger(tmp_path)) == ["a"]


def test_appends_wait_for_the_ledger_lock(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text(_entry_line("a") + "\n")
    appended = threading.Event()
    with ledger.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another flow appending to the same folder
        worker = threading.Thread(target=lambda: (writers.append_lines(ledger, [_entry_line("b")]), appended.set()))
        worker.start()
        assert not appended.wait(0.3), "append_lines wrote while another process held the lock"
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    worker.join(5)
    assert appended.is_set() and sorted(read_ledger(tmp_path)) == ["a", "b"]


def _row(doc: str, stem: str, index: int, part: int) -> dict[str, object]:
    """A minimal observation row; `value` records which part the row came from."""
    box = {"bbox_x0": 0.0, "bbox_top": 0.0, "bbox_x1": 1.0, "bbox_bottom": 1.0}
    return {"document_id": doc, "stem": stem, "row_index": index, "label_printed": "L", "value_printed": "1",
            "value": float(part), "confidence": 1.0, "review_status": "auto-accepted", "page": 1,
            "source": "text", "notes": [], **box}


_DOCS = {"d0": "alpha", "d1": "beta", "d2": "alpha", "d3": "gamma"}  # two documents share a stem


@settings_h(max_examples=25, deadline=None)
@given(
    parts=st.lists(st.sets(st.tuples(st.sampled_from(sorted(_DOCS)), st.integers(0, 4)), max_size=8), min_size=1, max_size=5),
    ages=st.permutations(range(5)),
    keep=st.none() | st.sets(st.sampled_from(sorted(_DOCS))),
)
def test_compaction_keeps_each_row_once_from_the_newest_part(parts: list[set[tuple[str, int]]], ages: list[int], keep: set[str] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        newest: dict[tuple[str, int], int] = {}
        for i, keys in enumerate(parts):
            rows = [_row(doc, _DOCS[doc], idx, i) for doc, idx in sorted(keys, reverse=True)]
            path = writers.write_part(out, f"x{i}", [pa.Table.from_pylist(rows, schema=writers.OBSERVATION_SCHEMA)])
            stamp = 1_700_000_000_000_000_000 + ages[i] * 1_000_000_000  # names say nothing about age
            os.utime(path, ns=(stamp, stamp))
        for i in sorted(range(len(parts)), key=lambda i: ages[i]):  # oldest first: newer parts overwrite
            newest.update({k: i for k in parts[i]})
        expected = {k: v for k, v in newest.items() if keep is None or k[0] in keep}

        got = pq.read_table(writers.compact_parts(out, keep_documents=keep)).to_pylist()

        keys = [(r["document_id"], r["row_index"]) for r in got]
        assert len(keys) == len(set(keys))
        assert {k: int(r["value"]) for k, r in zip(keys, got)} == expected
        order = [(r["stem"], r["document_id"], r["row_index"]) for r in got]
        assert order == sorted(order)


def _in_fresh_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_language_detection_does_not_import_spacys_language_packages() -> None:
    # importing spacy.lang.fr compiles its tokenizer exceptions: 7 s on every worker's first document
    code = (
        "import sys; from extractors.language import detect_language, _stopwords;"
        "print(detect_language('le patient et les résultats de la prise de sang sont dans'.split()),"
        " 'spacy.lang.fr' in sys.modules, 'spacy' in sys.modules, len(_stopwords()['fr']) > 300)"
    )
    assert _in_fresh_python(code) == "fr False False True"


def test_warm_up_loads_what_a_worker_would_load_on_its_first_document() -> None:
    code = (
        "import sys; from flows.pipeline import warm_up; warm_up();"
        "from mappers.units import load_units; from extractors.rules import lexicon; from extractors.language import _stopwords;"
        "print(load_units.cache_info().currsize, lexicon.cache_info().currsize, _stopwords.cache_info().currsize,"
        " 'pandas' in sys.modules, 'fhir.resources.R4B.observation' in sys.modules)"
    )
    assert _in_fresh_python(code) == "1 1 1 True True"
