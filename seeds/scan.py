"""Turn digital seed PDFs into scanned-looking, image-only PDFs (no text layer).

Profiles imitate what arrives in a shared care record: clean 300-dpi scans, office MFP
scans (200 dpi, grey paper, noise, JPEG), faxes (200x100 dpi bilevel, CCITT G4), phone
photos (perspective, uneven light), pages fed sideways or upside down, and skewed pages.
Output is deterministic for a given ``seed`` (and source stem / page).

CLI::

    python -m seeds.scan --src DIR --out DIR --seed N [--profile fax --profile photo ...]

writes ``<stem>-scan-<profile>.pdf`` and ``<stem>-scan-<profile>.truth.json`` for every
``<stem>.pdf`` that has a ``<stem>.truth.json`` next to it.
"""

from __future__ import annotations

import argparse
import io
import json
import zlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

FIXED_DATE = time.gmtime(1767225600)  # 2026-01-01, so output is byte-identical for a seed


@dataclass(frozen=True)
class ScanProfile:
    dpi: int = 200
    skew_deg: float = 0.5  # |angle| uniform in [min_skew_deg, skew_deg], random sign
    min_skew_deg: float = 0.0
    right_angles: tuple[int, ...] = (0,)  # clockwise page rotations to pick from (per page)
    paper: tuple[int, int] = (240, 252)  # paper grey level range
    blur_sigma: float = 0.0  # gaussian blur in pixels at the scan resolution
    noise_sigma: float = 0.0  # gaussian noise, grey levels
    artefact_quality: int | None = None  # an extra low-quality JPEG round trip
    jpeg_quality: int = 70  # final JPEG quality (ignored for fax)
    fax: bool = False  # 200x100 dpi bilevel, CCITT G4
    photo: bool = False  # perspective + uneven light


PROFILES: dict[str, ScanProfile] = {
    "clean300": ScanProfile(dpi=300, skew_deg=0.3, paper=(246, 254), noise_sigma=2.0, jpeg_quality=60),
    "office200": ScanProfile(dpi=200, skew_deg=1.5, paper=(228, 245), blur_sigma=0.6, noise_sigma=5.0, artefact_quality=45, jpeg_quality=60),
    "fax": ScanProfile(dpi=200, skew_deg=1.0, paper=(255, 255), blur_sigma=0.5, noise_sigma=18.0, fax=True),
    "photo": ScanProfile(dpi=200, skew_deg=2.0, paper=(215, 240), blur_sigma=1.0, noise_sigma=4.0, jpeg_quality=55, photo=True),
    "rotated90": ScanProfile(dpi=200, skew_deg=0.5, right_angles=(90, 270), noise_sigma=3.0, jpeg_quality=60),
    "rotated180": ScanProfile(dpi=200, skew_deg=0.5, right_angles=(180,), noise_sigma=3.0, jpeg_quality=60),
    "skewed": ScanProfile(dpi=200, skew_deg=3.0, min_skew_deg=1.0, noise_sigma=3.0, jpeg_quality=60),
}


def page_rng(seed: int, stem: str, profile: str, page_index: int) -> np.random.Generator:
    """Independent, reproducible randomness per (seed, document, profile, page)."""
    return np.random.default_rng([seed, zlib.crc32(stem.encode()), zlib.crc32(profile.encode()), page_index])


def rasterise(page: pdfium.PdfPage, dpi: float) -> np.ndarray:
    bitmap = page.render(scale=dpi / 72.0, grayscale=True)
    try:
        return np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8).copy()
    finally:
        bitmap.close()


def rotate_small(img: np.ndarray, ccw_deg: float, fill: int) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), ccw_deg, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def perspective(img: np.ndarray, rng: np.random.Generator, max_frac: float = 0.025, fill: int = 120) -> np.ndarray:
    """Phone-photo keystone: each corner moves inward by up to ``max_frac`` of the size."""
    h, w = img.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dx, dy = rng.uniform(0, max_frac * w, 4), rng.uniform(0, max_frac * h, 4)
    dst = np.float32([[dx[0], dy[0]], [w - dx[1], dy[1]], [w - dx[2], h - dy[2]], [dx[3], h - dy[3]]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def light_field(shape: tuple[int, int], rng: np.random.Generator, depth: float = 0.4) -> np.ndarray:
    """Multiplicative illumination in [1-depth, 1]: a linear gradient plus an off-centre spot."""
    full_h, full_w = shape
    h, w = max(2, full_h // 8), max(2, full_w // 8)  # smooth field: compute small, upscale
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    grad = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    grad = (grad - grad.min()) / max(float(np.ptp(grad)), 1e-6)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    spot = np.exp(-(((xx - cx) / (0.6 * w)) ** 2 + ((yy - cy) / (0.6 * h)) ** 2))
    field = 0.6 * (1 - grad) + 0.4 * spot
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    small = ((1.0 - depth) + depth * field).astype(np.float32)
    return cv2.resize(small, (full_w, full_h), interpolation=cv2.INTER_LINEAR)


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=np.uint8).copy()


def degrade(img: np.ndarray, prof: ScanProfile, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Apply a profile to one rasterised page; returns the image and its clockwise rotation."""
    x = img.astype(np.float32)
    paper = rng.uniform(*prof.paper)
    x = x * (paper / 255.0)  # white -> paper grey, ink stays dark
    if prof.photo:
        x = x * light_field(x.shape, rng)
        x = perspective(np.clip(x, 0, 255).astype(np.uint8), rng).astype(np.float32)
    skew = rng.uniform(prof.min_skew_deg, prof.skew_deg) * rng.choice((-1.0, 1.0)) if prof.skew_deg else 0.0
    x = rotate_small(np.clip(x, 0, 255).astype(np.uint8), skew, int(paper)).astype(np.float32)
    if prof.blur_sigma > 0:
        x = cv2.GaussianBlur(x, (0, 0), prof.blur_sigma)
    if prof.noise_sigma > 0:
        x = x + rng.normal(0.0, prof.noise_sigma, x.shape).astype(np.float32)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if prof.artefact_quality is not None:
        out = jpeg_roundtrip(out, prof.artefact_quality)
    rotation = int(rng.choice(prof.right_angles))
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    if rotation:
        out = cv2.rotate(out, codes[rotation])
    return out, rotation


def to_fax(img: np.ndarray, rng: np.random.Generator, threshold: int = 150) -> Image.Image:
    """Halve the vertical resolution (fax "normal" mode), threshold, sprinkle specks."""
    h, w = img.shape
    low = cv2.resize(img, (w, max(1, h // 2)), interpolation=cv2.INTER_AREA)
    bw = low >= threshold
    specks = rng.random(bw.shape) < 0.0007
    bw = np.where(specks, ~bw, bw)
    return Image.fromarray((bw * 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)


def scan_pdf(src_pdf: Path, dst_pdf: Path, profile: str, seed: int) -> None:
    """Write an image-only, scanned-looking copy of ``src_pdf`` to ``dst_pdf``."""
    prof = PROFILES[profile]
    pdf = pdfium.PdfDocument(str(src_pdf))
    pages: list[Image.Image] = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                raster = rasterise(page, prof.dpi)
            finally:
                page.close()
            rng = page_rng(seed, src_pdf.stem, profile, i)
            img, _ = degrade(raster, prof, rng)
            pages.append(to_fax(img, rng) if prof.fax else Image.fromarray(img))
    finally:
        pdf.close()
    if not pages:
        raise ValueError("source PDF has no pages")
    dpi = (prof.dpi, prof.dpi // 2) if prof.fax else (prof.dpi, prof.dpi)
    dst_pdf.parent.mkdir(parents=True, exist_ok=True)
    extra = {} if prof.fax else {"quality": prof.jpeg_quality}  # fax pages are CCITT G4
    pages[0].save(
        dst_pdf, "PDF", save_all=True, append_images=pages[1:], dpi=dpi,
        title="scan", producer="pdf2fhir seeds.scan", creator="pdf2fhir seeds.scan",
        creationDate=FIXED_DATE, modDate=FIXED_DATE, **extra,
    )


def scanned_truth(truth: dict[str, object], new_stem: str, profile: str) -> dict[str, object]:
    """Truth of the scanned copy: same content, new document id, marked scanned."""
    out = dict(truth)
    out["document"] = new_stem
    out["scanned"] = True
    out["scan_profile"] = profile
    return out


def scan_dir(src: Path, out: Path, seed: int = 0, profiles: Sequence[str] = tuple(PROFILES), cycle: bool = False) -> list[Path]:
    """Scan every ``<stem>.pdf`` with a ``<stem>.truth.json`` in ``src`` with each profile
    (``cycle=True``: one profile per document, taking the profiles in turn).

    Documents already marked ``"scanned": true`` are skipped, so ``out`` may be ``src``.
    """
    written: list[Path] = []
    for i, pdf in enumerate(sorted(src.glob("*.pdf"))):
        truth_path = pdf.with_name(pdf.stem + ".truth.json")
        if not truth_path.is_file():
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("scanned"):
            continue
        for profile in ([profiles[i % len(profiles)]] if cycle else profiles):
            new_stem = f"{pdf.stem}-scan-{profile}"
            dst = out / f"{new_stem}.pdf"
            scan_pdf(pdf, dst, profile, seed)
            (out / f"{new_stem}.truth.json").write_text(
                json.dumps(scanned_truth(truth, new_stem, profile), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            written.append(dst)
    return written


scan_directory = scan_dir  # descriptive alias


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make scanned-looking image-only copies of seed PDFs.")
    parser.add_argument("--src", type=Path, required=True, help="directory with <stem>.pdf + <stem>.truth.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="append", choices=sorted(PROFILES), help="repeatable; default: all")
    args = parser.parse_args(argv)
    written = scan_dir(args.src, args.out, args.seed, args.profile or tuple(PROFILES))
    print(f"wrote {len(written)} scanned PDFs to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
