"""Render PDF pages to grayscale images for OCR (pypdfium2).

The resolution is chosen for tesseract (300 dpi by default) but capped by a pixel budget so
that huge pages (A3 scans, posters) do not explode memory and time. The returned
``scale`` (pixels per PDF point) converts image boxes back to points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

DEFAULT_DPI = 300
MAX_PIXELS = 12_000_000
MIN_DPI = 72
BILEVEL_MIN_COVER = 0.5  # a 1-bit image over at least half the page makes the page a bilevel scan


@dataclass(frozen=True)
class RenderedPage:
    image: Image.Image  # mode "L"
    scale: float  # pixels per point (dpi / 72)
    dpi: float
    width_pt: float  # page size as displayed (after /Rotate), like pdfplumber page.width
    height_pt: float
    one_bit: bool = False  # the page is a 1-bit (fax / CCITT / JBIG2) image: see bilevel_scan()


def choose_dpi(width_pt: float, height_pt: float, dpi: float = DEFAULT_DPI, max_pixels: int = MAX_PIXELS) -> float:
    """``dpi`` unless the page would exceed ``max_pixels``; then the largest dpi that fits."""
    if width_pt <= 0 or height_pt <= 0:
        raise ValueError("page has no area")
    pixels_at = (width_pt * dpi / 72.0) * (height_pt * dpi / 72.0)
    if pixels_at <= max_pixels:
        return float(dpi)
    fit = 72.0 * math.sqrt(max_pixels / (width_pt * height_pt))
    return max(float(MIN_DPI), math.floor(fit))


def bilevel_scan(page: pdfium.PdfPage, min_cover: float = BILEVEL_MIN_COVER) -> bool:
    """True when 1-bit images (fax, CCITT G3/G4, JBIG2 scans) cover at least ``min_cover`` of the page.

    Read from the PDF, not from the rendering: pdfium smooths a 1-bit image it scales up,
    so the rendered page has grey edges and no longer looks bilevel to a pixel count
    (4 of 7 fax pages of a seed set did not).
    """
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        return False
    covered = 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        try:
            if obj.get_metadata().bits_per_pixel != 1:
                continue
            left, bottom, right, top = obj.get_bounds()
        except pdfium.PdfiumError:  # damaged image object: not evidence either way
            continue
        covered += max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
    return covered >= min_cover * width * height


def render_pdfium_page(page: pdfium.PdfPage, dpi: float = DEFAULT_DPI, max_pixels: int = MAX_PIXELS) -> RenderedPage:
    """Render an open pypdfium2 page (honours the page's /Rotate like pdfplumber does)."""
    width_pt, height_pt = page.get_size()
    use_dpi = choose_dpi(width_pt, height_pt, dpi, max_pixels)
    scale = use_dpi / 72.0
    bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
    try:
        image = bitmap.to_pil().convert("L")
    finally:
        bitmap.close()
    return RenderedPage(
        image=image, scale=scale, dpi=use_dpi, width_pt=float(width_pt), height_pt=float(height_pt),
        one_bit=bilevel_scan(page),
    )


def render_page(pdf_path: Path, page_index: int, dpi: float = DEFAULT_DPI, max_pixels: int = MAX_PIXELS) -> RenderedPage:
    """Render page ``page_index`` (0-based) of ``pdf_path`` to a grayscale image."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[page_index]
        try:
            return render_pdfium_page(page, dpi, max_pixels)
        finally:
            page.close()
    finally:
        pdf.close()
