"""Scanned-copy maker: image-only, bounded size, deterministic, truth copied."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest

from extractors.preprocess import estimate_skew, to_array
from extractors.routing import route_pdfplumber_page
from models import WordSource
from ocr_fixtures import draw_report
from seeds.scan import PROFILES, main, scan_dir, scan_pdf

MAX_BYTES_PER_PAGE = 700_000


@pytest.fixture(scope="module")
def digital(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return draw_report(tmp_path_factory.mktemp("scan") / "lab-fr-0001.pdf", "fr", seed=4).path


@pytest.fixture(scope="module")
def two_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return draw_report(tmp_path_factory.mktemp("scan2") / "lab-fr-0002.pdf", "fr", seed=6, pages=2).path


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profile_gives_image_only_pdf_of_bounded_size(digital: Path, tmp_path: Path, profile: str) -> None:
    out = tmp_path / f"{profile}.pdf"
    scan_pdf(digital, out, profile, seed=1)
    with pdfplumber.open(out) as pdf, pdfplumber.open(digital) as src:
        assert len(pdf.pages) == len(src.pages)
        for page, src_page in zip(pdf.pages, src.pages):
            assert page.chars == []
            assert len(page.images) == 1
            assert route_pdfplumber_page(page).source is WordSource.OCR
            size = sorted((round(page.width), round(page.height)))
            assert size == sorted((round(src_page.width), round(src_page.height)))
    assert out.stat().st_size < MAX_BYTES_PER_PAGE


def test_same_seed_same_bytes_other_seed_differs(digital: Path, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    scan_pdf(digital, a, "office200", seed=11)
    scan_pdf(digital, b, "office200", seed=11)
    scan_pdf(digital, c, "office200", seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def _first_page(path: Path, dpi: float = 72) -> np.ndarray:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return to_array(pdf[0].render(scale=dpi / 72, grayscale=True).to_pil())
    finally:
        pdf.close()


def test_rotated90_pages_are_landscape(two_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    scan_pdf(two_pages, out, "rotated90", seed=2)
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert all(p.width > p.height for p in pdf.pages)


def test_skewed_profile_is_skewed_within_range(digital: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.pdf"
    angles = []
    for seed in range(2):
        scan_pdf(digital, out, "skewed", seed=seed)
        angles.append(estimate_skew(_first_page(out, 100)))
    prof = PROFILES["skewed"]
    assert all(prof.min_skew_deg - 0.5 <= abs(a) <= prof.skew_deg + 0.5 for a in angles)
    assert angles[0] != angles[1]


def test_fax_is_bilevel_and_photo_unevenly_lit(digital: Path, tmp_path: Path) -> None:
    fax, photo = tmp_path / "fax.pdf", tmp_path / "photo.pdf"
    scan_pdf(digital, fax, "fax", seed=1)
    scan_pdf(digital, photo, "photo", seed=1)
    with pdfplumber.open(fax) as pdf:
        assert pdf.pages[0].images[0]["bits"] == 1
    img = _first_page(photo)
    h, w = img.shape
    quads = [img[: h // 2, : w // 2], img[: h // 2, w // 2 :], img[h // 2 :, : w // 2], img[h // 2 :, w // 2 :]]
    paper = [float(np.percentile(q, 90)) for q in quads]
    assert max(paper) - min(paper) > 15


def test_cli_writes_scans_and_truth(digital: Path, tmp_path: Path) -> None:
    truth = {"schema": "pdf2fhir-truth/1", "document": digital.stem, "layout": "fr_ruled", "scanned": False, "observations": []}
    digital.with_name(digital.stem + ".truth.json").write_text(json.dumps(truth), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--src", str(digital.parent), "--out", str(out), "--seed", "3", "--profile", "fax", "--profile", "clean300"]) == 0
    for profile in ("fax", "clean300"):
        stem = f"{digital.stem}-scan-{profile}"
        assert (out / f"{stem}.pdf").is_file()
        t = json.loads((out / f"{stem}.truth.json").read_text(encoding="utf-8"))
        assert t["document"] == stem and t["scanned"] is True and t["scan_profile"] == profile
        assert t["layout"] == "fr_ruled" and t["observations"] == []
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{digital.stem}-scan-{p}{ext}" for p in ("fax", "clean300") for ext in (".pdf", ".truth.json")
    )


def test_scan_dir_in_place_skips_scanned_copies(digital: Path, tmp_path: Path) -> None:
    src = tmp_path / "seeds"
    src.mkdir()
    (src / digital.name).write_bytes(digital.read_bytes())
    truth = {"document": digital.stem, "layout": "x", "scanned": False}
    (src / f"{digital.stem}.truth.json").write_text(json.dumps(truth), encoding="utf-8")
    first = scan_dir(src, src, seed=1, profiles=("fax",))
    again = scan_dir(src, src, seed=1, profiles=("fax",))
    assert [p.name for p in first] == [p.name for p in again] == [f"{digital.stem}-scan-fax.pdf"]
