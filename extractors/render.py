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
from PIL import Image

DEFAULT_DPI = 300
MAX_PIXELS = 12_000_000
MIN_DPI = 72


@dataclass(frozen=True)
class RenderedPage:
    image: Image.Image  # mode "L"
    scale: float  # pixels per point (dpi / 72)
    dpi: float
    width_pt: float  # page size as displayed (after /Rotate), like pdfplumber page.width
    height_pt: float


def choose_dpi(width_pt: float, height_pt: float, dpi: float = DEFAULT_DPI, max_pixels: int = MAX_PIXELS) -> float:
    """``dpi`` unless the page would exceed ``max_pixels``; then the largest dpi that fits."""
    if width_pt <= 0 or height_pt <= 0:
        raise ValueError("page has no area")
    pixels_at = (width_pt * dpi / 72.0) * (height_pt * dpi / 72.0)
    if pixels_at <= max_pixels:
        return float(dpi)
    fit = 72.0 * math.sqrt(max_pixels / (width_pt * height_pt))
    return max(float(MIN_DPI), math.floor(fit))


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
    return RenderedPage(image=image, scale=scale, dpi=use_dpi, width_pt=float(width_pt), height_pt=float(height_pt))


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
