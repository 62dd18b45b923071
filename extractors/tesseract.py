"""Tesseract in-process (tesserocr): one loaded model per language and worker process.

Why not only pytesseract: every pytesseract call starts a ``tesseract`` process that loads
the model again and needs the image written to a file. In-process, the model stays loaded
and a page can be *re-read in parts*: :meth:`Engine.read_cells` recognises small
rectangles of the already-set page image as single lines. That is what fixes the most
common LSTM error on table rows: a long row with wide gaps ("Harnstoff    3,3   mmol/l")
is read as one line and small glyphs vanish ("62,0" -> "2,0", "4,33" -> "433"); the same
cell read on its own comes out right (measured in ``docs``/README, issue 3).

The data returned by :meth:`Engine.read_page` has the shape of
``pytesseract.image_to_data(..., output_type=DICT)`` (tesseract's TSV), so
:func:`extractors.ocr.words_from_tesseract` reads either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from PIL import Image

T = TypeVar("T")
_TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
                "left", "top", "width", "height", "conf", "text")
_KNOWN_TESSDATA = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/local/share/tessdata",
    "/usr/share/tessdata",
)


@lru_cache(maxsize=1)
def tessdata_dir() -> str:
    """Where the language models are: ``$TESSDATA_PREFIX``, the ``tesseract`` command's own
    folder, or a known distribution path."""
    env = os.environ.get("PDF2FHIR_TESSDATA") or os.environ.get("TESSDATA_PREFIX")
    if env and Path(env).is_dir():
        return str(Path(env))
    exe = shutil.which("tesseract")
    if exe:
        try:
            out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
            first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
            if '"' in first:
                path = first.split('"')[1]
                if Path(path).is_dir():
                    return str(Path(path))
        except (OSError, subprocess.SubprocessError, IndexError):
            pass
    for cand in _KNOWN_TESSDATA:
        if Path(cand).is_dir():
            return cand
    raise RuntimeError("no tesseract language data found: install tesseract-ocr-<lang> or set TESSDATA_PREFIX")


def parse_tsv(tsv: str) -> dict[str, list[Any]]:
    """Tesseract TSV (no header) -> columns, numbers as int/float, like pytesseract's DICT."""
    data: dict[str, list[Any]] = {c: [] for c in _TSV_COLUMNS}
    for line in tsv.splitlines():
        parts = line.split("\t")
        if len(parts) < 11:
            continue
        parts += [""] * (12 - len(parts))
        for col, raw in zip(_TSV_COLUMNS, parts[:12]):
            if col == "text":
                data[col].append(raw)
            elif col == "conf":
                data[col].append(float(raw) if raw else -1.0)
            else:
                data[col].append(int(raw) if raw else 0)
    return data


def _untagged(image: Image.Image) -> Image.Image:
    """The image without its file-format tag: tesserocr hands a tagged image (one opened
    from a PNG file) to tesseract re-encoded in that format, 0.4 s for a 300-dpi page;
    an untagged one goes as a BMP in 0.02-0.04 s (measured)."""
    return image if image.format is None else image.copy()


def _set_image(api: Any, image: Image.Image | np.ndarray) -> None:
    """Hand a grey image to tesseract as raw pixels (8 bits, one row after another); any
    other mode goes through tesserocr's own encoding, a BMP in memory (measured: 9 ms for
    a 300-dpi page against 6 ms raw, 0.06 ms for a cell against 0.01 ms; small, but paid
    on every page pass, region and cell read). Tesseract sees the same pixels either way."""
    if isinstance(image, np.ndarray) or image.mode == "L":
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        height, width = pixels.shape
        api.SetImageBytes(pixels.tobytes(), width, height, 1, width)
    else:
        api.SetImage(_untagged(image))


@dataclass(frozen=True)
class CellRead:
    text: str
    confidence: float  # 0..1


CELL_DPI = 96  # the resolution cells were always read at (what a BMP of them declared)
SURE_CELL = 0.9  # a binarised cell read this surely is not read again in grey


class Engine:
    """One tesseract model (``lang``, LSTM only, single-threaded) kept loaded."""

    def __init__(self, lang: str, tessdata: str | None = None) -> None:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        import tesserocr

        self._t = tesserocr
        self.lang = lang
        self._api = tesserocr.PyTessBaseAPI(
            path=tessdata or tessdata_dir(), lang=lang, oem=tesserocr.OEM.LSTM_ONLY,
        )
        self._api.SetVariable("preserve_interword_spaces", "1")

    def read_page(self, image: Image.Image, psm: int, dpi: float) -> dict[str, list[Any]]:
        """Recognise the whole image; TSV columns as :func:`parse_tsv`."""
        api = self._api
        api.SetPageSegMode(int(psm))
        _set_image(api, image)
        api.SetSourceResolution(max(70, int(round(dpi))))
        api.Recognize()
        return parse_tsv(api.GetTSVText(0) or "")

    def image_blocks(self) -> list[tuple[int, int, int, int]]:
        """Pixel boxes ``(left, top, right, bottom)`` of the regions the last
        :meth:`read_page` took for pictures. Tesseract drops the glyphs inside them
        unread: on a photographed page the paper's grain made one such region of the
        upper half, and a whole column of results went with it."""
        t = self._t
        pictures = {t.PT.FLOWING_IMAGE, t.PT.HEADING_IMAGE, t.PT.PULLOUT_IMAGE}
        it = self._api.GetIterator()
        out: list[tuple[int, int, int, int]] = []
        if it is None:
            return out
        for block in t.iterate_level(it, t.RIL.BLOCK):
            box = block.BoundingBox(t.RIL.BLOCK)
            if box is not None and block.BlockType() in pictures:
                out.append(tuple(int(v) for v in box))  # type: ignore[arg-type]
        return out

    def read_cells(self, image: Image.Image, boxes: Sequence[tuple[int, int, int, int]]) -> list[CellRead]:
        """Read rectangles ``(left, top, width, height)`` of ``image``, each on its own as
        one line of text, twice: binarised with the cell's own Otsu threshold (tesseract's
        page-wide threshold leaves JPEG and scanner grey around small glyphs: a clean
        "3,3" read as "3,8") and as grey (better on blurred scans); the surer reading wins.
        On the scanned tuning pages: value recall 93.7% grey only, 93.0% binarised only,
        94.5% both."""
        api = self._api
        api.SetPageSegMode(self._t.PSM.SINGLE_LINE)
        gray = np.asarray(image.convert("L"))
        out: list[CellRead] = []
        for left, top, width, height in boxes:
            crop = gray[top : top + height, left : left + width]
            if crop.size == 0:
                out.append(CellRead(text="", confidence=0.0))
                continue
            _, bw = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            pad = max(4, height // 3)
            best = CellRead(text="", confidence=-1.0)
            for variant in (bw, crop):  # own threshold first; the grey crop wins when surer
                if best.confidence >= SURE_CELL:
                    break
                padded = cv2.copyMakeBorder(variant, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
                _set_image(api, padded)
                api.SetSourceResolution(CELL_DPI)
                text = (api.GetUTF8Text() or "").strip()
                conf = max(0.0, min(1.0, api.MeanTextConf() / 100.0))
                if conf > best.confidence:
                    best = CellRead(text=text, confidence=conf)
            out.append(best)
        return out


@dataclass(frozen=True)
class OsdResult:
    rotate: int  # clockwise degrees that make the page upright
    confidence: float  # tesseract's orientation confidence (real pages: 5-20)


class OsdEngine:
    """Tesseract's orientation and script detection, in-process."""

    def __init__(self, tessdata: str | None = None) -> None:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        import tesserocr

        self._api = tesserocr.PyTessBaseAPI(path=tessdata or tessdata_dir(), lang="osd", psm=tesserocr.PSM.OSD_ONLY)

    def detect(self, image: Image.Image, dpi: float) -> OsdResult | None:
        _set_image(self._api, image)
        self._api.SetSourceResolution(max(70, int(round(dpi))))
        found = self._api.DetectOrientationScript()
        if not found:
            return None
        return OsdResult(rotate=(360 - int(found["orient_deg"])) % 360, confidence=float(found["orient_conf"]))


_LOADED: dict[tuple[int, str], Any] = {}


def _per_process(name: str, make: Callable[[], T]) -> T:
    """One loaded model per worker process (created on first use; never shared across a
    fork: a child's first call loads its own)."""
    pid = os.getpid()
    if any(k[0] != pid for k in _LOADED):
        _LOADED.clear()
    key = (pid, name)
    if key not in _LOADED:
        _LOADED[key] = make()
    return _LOADED[key]  # type: ignore[no-any-return]


def engine(lang: str) -> Engine:
    """The process's recognition engine for ``lang``."""
    return _per_process(lang, lambda: Engine(lang))


def osd_engine() -> OsdEngine:
    """The process's orientation detector."""
    return _per_process("osd", OsdEngine)
