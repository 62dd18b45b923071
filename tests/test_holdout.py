"""The committed hold-out set (seeds/holdout/docs): truth files are well-formed, internally
consistent and printed on the pages they name. Chromium documents are never regenerated
here; fpdf2 and platypus documents are rebuilt once to check the code still matches."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

DOCS = Path(__file__).resolve().parents[1] / "seeds" / "holdout" / "docs"
TRUTHS = sorted(DOCS.glob("*.truth.json"))
OBS_KEYS = {"label", "loinc", "value", "comparator", "value_text", "unit", "unit_printed",
            "ref_low", "ref_high", "interpretation", "page"}
QUALITATIVE = {"negative", "positive", "trace", "1+", "2+", "3+", "normal"}
PRODUCERS = {"chromium": "skia/pdf", "fpdf2": "pyfpdf", "platypus": "reportlab"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def ids(paths: list[Path]) -> list[str]:
    return [p.name.removesuffix(".truth.json") for p in paths]


def squash(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace()).casefold()


@lru_cache(maxsize=None)
def page_texts(pdf: Path) -> tuple[str, ...]:
    with pdfplumber.open(pdf) as doc:
        return tuple(squash(page.extract_text() or "") for page in doc.pages)


def loinc_ok(code: str) -> bool:
    """Mod-10 check digit, written out independently of the builder."""
    m = re.fullmatch(r"(\d{1,7})-(\d)", code)
    if not m:
        return False
    total = 0
    for i, ch in enumerate(reversed(m.group(1))):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10 == int(m.group(2))


def expected_interpretation(o: dict[str, Any]) -> str | None:
    if o["value"] is None:
        return "N" if o["value_text"] == "negative" else "A"
    low, high, v = o["ref_low"], o["ref_high"], o["value"]
    if low is None and high is None:
        return None
    if low is not None and v < low:
        return "L"
    if high is not None and v > high:
        return "H"
    return "N"


def test_set_is_present_and_small() -> None:
    assert len(TRUTHS) == 24
    assert all((p.with_name(p.name.replace(".truth.json", ".pdf"))).exists() for p in TRUTHS)
    assert sum(f.stat().st_size for f in DOCS.iterdir()) < 3 * 1024 * 1024


def test_layouts_and_producers_are_varied() -> None:
    from seeds.holdout.build import LAYOUT_BY_NAME

    layouts = {load(p)["layout"] for p in TRUTHS}
    assert len(layouts) >= 6 and all(name.startswith("ho_") for name in layouts)
    seen: set[str] = set()
    for p in TRUTHS:
        producer = LAYOUT_BY_NAME[load(p)["layout"]].producer
        with pdfplumber.open(p.with_name(p.name.replace(".truth.json", ".pdf"))) as pdf:
            meta = " ".join(str(v) for v in pdf.metadata.values()).casefold()
        assert PRODUCERS[producer] in meta, (p.name, meta)
        seen.add(producer)
    assert seen == set(PRODUCERS)


@pytest.mark.parametrize("path", TRUTHS, ids=ids(TRUTHS))
def test_truth_schema(path: Path) -> None:
    t = load(path)
    assert t["schema"] == "pdf2fhir-truth/1"
    assert t["document"] == path.name.removesuffix(".truth.json")
    assert t["language"] in ("fr", "de", "en") and t["scanned"] is False
    patient = t["patient"]
    assert patient["sex"] in ("male", "female") and patient["family"] and patient["given"]
    date.fromisoformat(patient["birth_date"])
    collected = datetime.fromisoformat(t["collection_date"])
    assert date.fromisoformat(t["report_date"]) >= collected.date()
    digits = patient["national_id"]
    assert digits.isdigit() and len(digits) == (10 if t["language"] == "en" else 13)
    if t["language"] != "en":
        assert digits[:8] == patient["birth_date"].replace("-", "")
    assert t["observations"]


@pytest.mark.parametrize("path", TRUTHS, ids=ids(TRUTHS))
def test_observations_consistent(path: Path) -> None:
    for o in load(path)["observations"]:
        assert set(o) == OBS_KEYS, o["label"]
        assert loinc_ok(o["loinc"]), o["loinc"]
        assert (o["value"] is None) != (o["value_text"] is None), o["label"]
        if o["value_text"] is not None:
            assert o["value_text"] in QUALITATIVE and o["unit"] is None and o["comparator"] is None
        assert o["comparator"] in (None, "<", ">", "<=", ">=")
        assert o["unit"] is None or (o["unit"] and " " not in o["unit"] and "µ" not in o["unit"])
        assert (o["unit"] is None) == (o["unit_printed"] is None), o["label"]
        if o["ref_low"] is not None and o["ref_high"] is not None:
            assert o["ref_low"] < o["ref_high"]
        assert o["interpretation"] == expected_interpretation(o), o["label"]


@pytest.mark.parametrize("path", TRUTHS, ids=ids(TRUTHS))
def test_labels_printed_on_their_page(path: Path) -> None:
    texts = page_texts(path.with_name(path.name.replace(".truth.json", ".pdf")))
    for o in load(path)["observations"]:
        assert 1 <= o["page"] <= len(texts)
        page = texts[o["page"] - 1]
        assert all(squash(word) in page for word in o["label"].split()), (o["label"], o["page"])


@pytest.mark.parametrize("layout", ["ho_de_rangebelow_fpdf", "ho_fr_cumul_platypus"])
def test_non_chromium_documents_rebuild_identically(layout: str, tmp_path: Path) -> None:
    from seeds.holdout.build import LAYOUT_BY_NAME, build_one, stem_for

    committed = {load(p)["document"]: p for p in TRUTHS if load(p)["layout"] == layout}
    stem = sorted(committed)[0]
    index = int(stem.rsplit("-", 1)[1])
    spec = LAYOUT_BY_NAME[layout]
    assert stem == stem_for(spec, index)
    build_one(tmp_path, 11, index, spec)
    assert load(tmp_path / f"{stem}.truth.json") == load(committed[stem])
