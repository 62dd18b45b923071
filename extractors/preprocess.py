"""Image clean-up before OCR: orientation, deskew, illumination, contrast.

Every step is a small function on a grayscale ``numpy.uint8`` array (dark text on light
paper) and is cheap compared with tesseract itself (see :func:`preprocess` timings):

* :func:`detect_orientation` — tesseract OSD (0/90/180/270), ``None`` when OSD cannot
  decide (too few characters, e.g. an almost empty page). It costs about as much as a
  recognition pass, so callers use :func:`lines_look_vertical` (cheap) to decide when to
  ask it and fall back to it when the upright OCR comes out with low confidence.
* :func:`estimate_skew` / :func:`rotate_small` — small-angle deskew (±5°) by maximising
  the variance of the horizontal projection profile of ink pixels, computed on point
  coordinates (no image rotation per candidate angle).
* :func:`flatten_illumination` — divides by a background estimated with a grey closing
  on a downscaled copy (photos of paper with uneven light / shading gradients).
* :func:`stretch_contrast` — percentile stretch; skipped for bilevel (fax-like) images
  which must not be re-binarised; :func:`remove_specks` drops isolated dust / fax specks.
* :func:`smooth_bilevel` — a slight blur that turns the staircase edges of an upscaled
  1-bit page into grey ramps, which tesseract's LSTM reads better.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from extractors.timing import stage

MAX_SKEW_DEG = 5.0
MIN_SKEW_DEG = 0.1  # below this, rotating costs more (interpolation blur) than it helps
OSD_MIN_CONFIDENCE = 1.5  # tesseract orientation_conf; real pages give 5-20
ANALYSIS_WIDTH = 1000  # px; skew / layout analysis runs on a copy this wide
# Gaussian sigma for 1-bit pages, in points (1 px at 300 dpi). On 14 fax documents of two
# seed sets: strict F1 53.5% -> 56.7% (7 others, used to choose it: 52.9% -> 68.1%);
# 1.2 px and 1.5 px did worse on the first set, 3 px halved it.
BILEVEL_SMOOTH_PT = 0.24


@dataclass(frozen=True)
class Orientation:
    rotate: int  # clockwise degrees to apply to make the page upright (0/90/180/270)
    confidence: float  # tesseract OSD orientation confidence


@dataclass(frozen=True)
class Preprocessed:
    image: Image.Image  # mode "L", upright, deskewed, cleaned
    rotation: int  # clockwise degrees applied (0/90/180/270)
    skew_deg: float  # small angle removed (positive = page was rotated counter-clockwise)
    bilevel: bool  # input looked like a fax / binarised scan
    flattened: bool  # uneven illumination was removed
    sharpened: bool = False  # blurred page (photo): sharpened instead of contrast-stretched
    straightened: bool = False  # a photographed page's text lines, tilted by different angles, were made level
    blob_shapes: tuple[int, int] | None = None  # word_blob_shapes of ``image``, when already counted
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


def to_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)


def percentiles_u8(gray: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile(gray, qs)`` (linear interpolation) of a ``uint8`` array, from its
    histogram: the same numbers, without sorting millions of pixels (a 300-dpi page's
    background map took 23 ms in ``np.percentile``, 3 ms here)."""
    flat = np.ascontiguousarray(gray).reshape(1, -1)
    cum = np.cumsum(cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    n = int(cum[-1])
    out = []
    for q in qs:
        index = (n - 1) * (q / 100.0)
        below = int(np.floor(index))
        t = index - below
        a = float(np.searchsorted(cum, below, side="right"))
        b = float(np.searchsorted(cum, min(below + 1, n - 1), side="right"))
        out.append(b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t)  # numpy's _lerp
    return tuple(out)


# the last downscaled copies, with the very arrays they were made from: the clean-up asks for
# the same copy twice in a row (edge measure then contrast stretch, blob count then skew, a
# band's ink then its skew) and an area resize of a 300-dpi page costs 7 ms. Arrays are never
# changed in place here, and holding the source keeps its id from being reused.
_DOWNSCALED: deque[tuple[np.ndarray, int, np.ndarray, float]] = deque(maxlen=2)


def _downscale(gray: np.ndarray, width: int = ANALYSIS_WIDTH) -> tuple[np.ndarray, float]:
    h, w = gray.shape
    if w <= width:
        return gray, 1.0
    for source, size, small, f in _DOWNSCALED:
        if source is gray and size == width:
            return small, f
    f = width / w
    small = cv2.resize(gray, (width, max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    _DOWNSCALED.append((gray, width, small, f))
    return small, f


def ink_bytes(gray: np.ndarray) -> np.ndarray:
    """Dark (ink) pixels by Otsu's threshold, as bytes: 255 ink, 0 paper."""
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return bw


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Boolean mask of dark (ink) pixels, Otsu threshold."""
    return ink_bytes(gray) > 0


def whiten(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``gray`` painted white wherever the 8-bit ``mask`` is not zero (one ``cv2.max``,
    no copy and boolean indexing of the page)."""
    return cv2.max(gray, cv2.threshold(mask, 0, 255, cv2.THRESH_BINARY)[1])


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``(count, labels, stats)`` of the 8-connected components of ``mask``.

    16-bit labels where the count fits (they halve the labelling time of a 300-dpi page,
    about 20 ms, and the look-ups over the label image); 32-bit for a page of more than
    65 534 components (noise), where OpenCV refuses 16 bits."""
    try:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return n, labels, stats


def is_bilevel(gray: np.ndarray, share: float = 0.97) -> bool:
    """True when nearly every pixel is (close to) pure black or pure white."""
    step = max(1, gray.shape[1] // 1200)
    small = np.ascontiguousarray(gray[::step, ::step])  # subsampled, not averaged: no new greys
    hist = cv2.calcHist([small], [0], None, [256], [0, 256]).ravel()
    extremes = hist[:32].sum() + hist[224:].sum()
    return bool(extremes >= share * small.size)


# --- orientation -------------------------------------------------------------------------


def word_blob_shapes(gray: np.ndarray) -> tuple[int, int]:
    """(wide, tall) counts of word-sized ink blobs on a ~1000-px-wide copy.

    Letters of a word touch after a 3x3 dilation at this scale, so upright text gives wide
    blobs and sideways text tall ones. Long straight runs (table rules, page edges) are
    removed first; they would otherwise count in either direction.
    """
    small, _ = _downscale(gray, 1000)
    mask = ink_mask(small).astype(np.uint8)
    run = max(15, small.shape[1] // 8)
    rules = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)) | cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)
    )
    blobs = cv2.dilate(mask & (1 - rules), np.ones((3, 3), np.uint8))
    _, _, stats = components(blobs)
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    word_sized = (w * h >= 30) & (np.maximum(w, h) < small.shape[1] // 4)
    return int(((w >= 1.5 * h) & word_sized).sum()), int(((h >= 1.5 * w) & word_sized).sum())


def lines_look_vertical(gray: np.ndarray) -> bool:
    """Cheap 90°-rotation test: sideways text makes many more tall word blobs than wide ones.

    (On upright and sideways scans of the seed layouts the majority is 2.5-30x either way.)
    """
    return blobs_stand_tall(word_blob_shapes(gray))


def blobs_stand_tall(shapes: tuple[int, int]) -> bool:
    """:func:`lines_look_vertical` from counts already made by :func:`word_blob_shapes`."""
    wide, tall = shapes
    return tall >= 10 and tall > 2 * wide


OSD_DPI = 150  # OSD on a 150-dpi copy: same answers as 300 dpi on the scanned seeds, ~4x cheaper


def at_most_dpi(image: Image.Image, dpi: float, max_dpi: float) -> tuple[Image.Image, float]:
    """``image`` (at ``dpi``) downscaled to ``max_dpi`` when finer; with its new dpi."""
    factor = min(1.0, max_dpi / dpi) if dpi > 0 else 1.0
    if factor >= 1.0:
        return image, dpi
    size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
    # pixel-area averaging: 3-5 ms for a page where Lanczos took 25-50 (the look and OSD
    # read these copies; their answers did not change on the scanned development sets)
    return Image.fromarray(cv2.resize(to_array(image), size, interpolation=cv2.INTER_AREA)), dpi * factor


def detect_orientation(image: Image.Image, dpi: float = 300) -> Orientation | None:
    """Tesseract OSD (in-process, on a copy of at most ``OSD_DPI``); ``None`` when it fails
    (sparse page) or is not confident."""
    from extractors.tesseract import osd_engine

    with stage("orientation (OSD)"):
        small, small_dpi = at_most_dpi(image.convert("L"), dpi, OSD_DPI)
        try:
            osd = osd_engine().detect(small, small_dpi)
        except (RuntimeError, ValueError):
            return None
    if osd is None or osd.rotate not in (0, 90, 180, 270) or osd.confidence < OSD_MIN_CONFIDENCE:
        return None
    return Orientation(rotate=osd.rotate, confidence=osd.confidence)


def rotate_right_angle(gray: np.ndarray, clockwise_deg: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    deg = clockwise_deg % 360
    return gray if deg == 0 else cv2.rotate(gray, codes[deg])


# --- deskew ------------------------------------------------------------------------------


def _profile_variance(xs: np.ndarray, ys: np.ndarray, angle_deg: float, bins: int) -> float:
    t = np.deg2rad(angle_deg)
    # row coordinate after rotating the page by -angle (undoing a ccw skew of +angle)
    yr = ys * np.cos(t) - xs * np.sin(t)
    idx = (yr - yr.min()).astype(np.int64)
    counts = np.bincount(idx, minlength=bins)
    return float(np.var(counts.astype(np.float64)))


def estimate_skew(gray: np.ndarray, max_deg: float = MAX_SKEW_DEG) -> float:
    """Skew angle in degrees (counter-clockwise positive, as in ``cv2.getRotationMatrix2D``).

    Coarse-to-fine search of the projection-profile variance over ink pixel coordinates
    of a downscaled copy. Returns 0.0 when there is too little ink to tell.
    """
    small, _ = _downscale(gray)
    mask = ink_mask(small)
    ys, xs = np.nonzero(mask)
    if xs.size < 200 or xs.size > 0.5 * mask.size:  # empty page or inverted / photo noise
        return 0.0
    if xs.size > 300_000:
        pick = np.random.default_rng(0).choice(xs.size, 300_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64)
    ys = ys.astype(np.float64)
    bins = int(np.hypot(*mask.shape)) + 2
    best = 0.0
    step = 0.5
    lo, hi = -max_deg, max_deg
    for _ in range(3):
        angles = np.arange(lo, hi + 1e-9, step)
        scores = [_profile_variance(xs, ys, a, bins) for a in angles]
        best = float(angles[int(np.argmax(scores))])
        lo, hi, step = best - step, best + step, step / 5
    # image y axis points down: a profile maximised at +a means the text runs up to the
    # right by a degrees, i.e. the page was rotated counter-clockwise by a degrees
    return round(-best, 2) if abs(best) >= MIN_SKEW_DEG else 0.0


KEYSTONE_BANDS = 4  # horizontal bands whose skew is measured on a photographed page
KEYSTONE_MIN_SPREAD = 0.25  # degrees between the bands' skews from which lines are levelled


def straighten_lines(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Level the text lines of a photographed page whose lines tilt by different angles
    from top to bottom (the camera was not square to the paper: after the best single
    rotation, lines at the top still rose 1.7° and those at the bottom none, so labels
    sat half a row below their values). The skew of ``KEYSTONE_BANDS`` horizontal bands
    is measured, a straight line fitted through it (angle against height), and every
    pixel column shifted by the angle of its row. Returns the image unchanged when the
    bands agree within ``KEYSTONE_MIN_SPREAD``."""
    h, w = gray.shape
    centres, angles = [], []
    for i in range(KEYSTONE_BANDS):
        band = gray[i * h // KEYSTONE_BANDS : (i + 1) * h // KEYSTONE_BANDS]
        if int(ink_mask(_downscale(band)[0]).sum()) < 2000:
            continue  # too little text in the band to tell
        centres.append((i + 0.5) * h / KEYSTONE_BANDS)
        angles.append(estimate_skew(band, 3.0))
    if len(angles) < 3 or max(angles) - min(angles) < KEYSTONE_MIN_SPREAD:
        return gray, False
    slope, intercept = np.polyfit(np.array(centres), np.array(angles), 1)
    rows = np.arange(h, dtype=np.float32)[:, None]
    cols = np.arange(w, dtype=np.float32)[None, :]
    tilt = np.tan(np.deg2rad(intercept + slope * rows)).astype(np.float32)
    map_x = np.ascontiguousarray(np.broadcast_to(cols, (h, w)))  # float32 maps only: no full-size index grids
    map_y = rows - (cols - w / 2.0) * tilt
    out = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return out, True


def rotate_small(gray: np.ndarray, ccw_deg: float, border: int = 255) -> np.ndarray:
    """Rotate by ``ccw_deg`` (counter-clockwise positive) about the centre, same size."""
    if ccw_deg == 0:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), ccw_deg, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


# --- illumination / contrast -------------------------------------------------------------


def estimate_background(gray: np.ndarray) -> np.ndarray:
    """Paper brightness map: grey closing (removes dark text) + blur, on a small copy."""
    small, f = _downscale(gray, 400)
    k = max(7, int(small.shape[1] / 40) | 1)  # wider than a text stroke at any sane dpi
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.medianBlur(closed, 5)
    bg = cv2.GaussianBlur(bg, (0, 0), sigmaX=k / 2)
    return cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def flatten_illumination(gray: np.ndarray, min_range: int = 25) -> tuple[np.ndarray, bool]:
    """Divide by the background when the paper's brightness varies by ``min_range`` or more."""
    bg = estimate_background(gray)
    lo, hi = percentiles_u8(bg, (2, 98))
    if hi - lo < min_range:
        return gray, False
    flat = cv2.divide(gray, np.maximum(bg, 1), scale=255)
    return flat, True


def stretch_contrast(gray: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.5) -> np.ndarray:
    """Linear stretch so the given percentiles map to black and white."""
    small, _ = _downscale(gray, 500)
    lo, hi = percentiles_u8(small, (low_pct, high_pct))
    if hi - lo < 10 or (lo <= 5 and hi >= 250):
        return gray
    lut = np.clip((np.arange(256, dtype=np.float64) - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


BLURRED_BELOW = 3.0  # edge sharpness (after flattening) of photographed seed pages 2.4-2.7; 200-dpi office scans 3.3-4.2, sharper scans 4.2-5.8


def edge_sharpness(gray: np.ndarray) -> float:
    """How steep the page's sharpest edges are, relative to its ink/paper contrast: the
    99.5th percentile of the Sobel gradient over the 1-99 percentile grey range, on the
    middle half of the page (a sharp step scores about 4; blur lowers it)."""
    h = gray.shape[0]
    band = gray[h // 4 : 3 * h // 4]
    if band.size == 0:
        return 4.0
    # the gradient at every other pixel, as before: its magnitude is only needed there.
    # 16-bit integer gradients of the 8-bit page: the same values as in floating point
    # (a 3x3 Sobel of bytes is an integer within +-1020), in half the time
    dx = cv2.Sobel(band, cv2.CV_16S, 1, 0)[::2, ::2].astype(np.float32)
    dy = cv2.Sobel(band, cv2.CV_16S, 0, 1)[::2, ::2].astype(np.float32)
    mag = cv2.magnitude(dx, dy)
    small, _ = _downscale(gray, 500)
    lo, hi = percentiles_u8(small, (1, 99))
    return float(np.percentile(mag, 99.5)) / max(1.0, hi - lo)


def unsharp(gray: np.ndarray, sigma: float = 2.0, amount: float = 0.8) -> np.ndarray:
    """Unsharp mask: a blurred page's strokes get their edges back without the halo
    turning black (a contrast stretch on a blurred page fills in "33" and "e").
    On the photographed seed pages: exact values 83% -> 90%."""
    g = gray.astype(np.float32)
    blurred = cv2.GaussianBlur(g, (0, 0), sigma)
    out = g * np.float32(1.0 + amount)
    blurred *= np.float32(amount)
    out -= blurred  # in place: a 300-dpi page's float copies cost 8 ms each
    cv2.max(out, 0.0, dst=out)
    cv2.min(out, 255.0, dst=out)
    return out.astype(np.uint8)


def smooth_bilevel(gray: np.ndarray, dpi: float, sigma_pt: float = BILEVEL_SMOOTH_PT) -> np.ndarray:
    """Blur a bilevel page slightly: a fax's 200x100 dpi pixels, scaled up to the OCR
    resolution, are staircases, and tesseract reads grey-ramped edges better than
    hard steps. Applied after :func:`remove_specks`, which needs the hard edges."""
    sigma = sigma_pt * dpi / 72.0
    if sigma < 0.3:
        return gray
    return cv2.GaussianBlur(gray, (0, 0), sigma)


def remove_specks(gray: np.ndarray, dpi: float, max_side_pt: float = 0.6) -> np.ndarray:
    """Paint out isolated ink blobs smaller than ``max_side_pt`` squared (fax / scanner dust).

    A full stop or decimal comma in 7-pt type is about 1 x 1 pt, so 0.6 pt keeps them.
    Works on bilevel and grey images alike (blobs are found on an Otsu mask), and does not
    re-binarise the page.
    """
    px = dpi / 72.0
    max_area = max(3, int((max_side_pt * px) ** 2))
    n, labels, stats = components(ink_bytes(gray))
    if n <= 1:
        return gray
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    if not small.any():
        return gray
    # paint the blob and its anti-aliased rim white
    return whiten(gray, cv2.dilate(small.astype(np.uint8)[labels], np.ones((3, 3), np.uint8)))


# --- pipeline ----------------------------------------------------------------------------


def preprocess(
    image: Image.Image,
    *,
    rotation: int | None = None,
    dpi: float = 300,
    deskew: bool = True,
    one_bit: bool = False,
) -> Preprocessed:
    """Upright, deskewed, evenly lit page image.

    ``one_bit``: the PDF says the page is a 1-bit image (:func:`extractors.render.bilevel_scan`):
    treated as bilevel and smoothed. Otherwise the pixels decide whether the page is bilevel
    (:func:`is_bilevel`: clean grey scans of white paper often are), and it is not smoothed
    (its edges are not upscaled staircases).

    ``rotation``: clockwise right-angle rotation to apply; ``None`` = detect (OSD is only
    asked when the text lines look vertical; 180° pages, and pages OSD cannot read, are
    caught later by the OCR confidence check in :func:`extractors.ocr.ocr_pdf_page`).
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    gray = to_array(image)
    bilevel = one_bit or is_bilevel(gray)
    timings["analyse"] = time.perf_counter() - t

    flattened = sharpened = False
    t = time.perf_counter()
    if not bilevel:
        gray, flattened = flatten_illumination(gray)  # also whitens dark photo margins
        if edge_sharpness(gray) < BLURRED_BELOW:
            gray, sharpened = unsharp(gray), True
        else:
            gray = stretch_contrast(gray)
    gray = remove_specks(gray, dpi)
    if one_bit:
        gray = smooth_bilevel(gray, dpi)
    timings["clean"] = time.perf_counter() - t

    t = time.perf_counter()
    shapes: tuple[int, int] | None = None
    if rotation is None:
        rotation = 0
        shapes = word_blob_shapes(gray)
        if blobs_stand_tall(shapes):
            guess = detect_orientation(Image.fromarray(gray), dpi)
            rotation = guess.rotate if guess is not None else 0  # OCR confidence decides later
    gray = rotate_right_angle(gray, rotation)
    timings["orientation"] = time.perf_counter() - t

    t = time.perf_counter()
    skew = estimate_skew(gray) if deskew else 0.0
    gray = rotate_small(gray, -skew)
    straightened = False
    if deskew and flattened:  # uneven light: a photographed page, maybe not square to the camera
        gray, straightened = straighten_lines(gray)
    timings["deskew"] = time.perf_counter() - t
    if rotation % 360 or skew or straightened:  # counted on the page before it was turned
        shapes = None
    return Preprocessed(
        image=Image.fromarray(gray),
        rotation=rotation % 360,
        skew_deg=skew,
        bilevel=bilevel,
        flattened=flattened,
        sharpened=sharpened,
        straightened=straightened,
        blob_shapes=shapes,
        timings=timings,
    )
