"""Seconds spent per stage in this process: what the benchmark's breakdown reads.

Each stage counts its own time only: while a stage nested in it runs, the outer one's
clock stops, so the stages add up to the time they cover and none is counted twice.
Wall-clock time, in the process the stage runs in (the benchmark reads it from a
one-worker run, which converts in its own process). Costs a microsecond a stage.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

SECONDS: Counter[str] = Counter()
_OPEN: list[list[object]] = []  # [name, clock started] of the stages running, innermost last
_AGAIN: list[bool] = [False]


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the ``with`` block's own time to ``name`` (to ``name + ", again"`` inside
    :func:`again`: a page read a second time, turned or with another model)."""
    label = name + (", again" if _AGAIN[0] else "")
    now = time.perf_counter()
    if _OPEN:  # the outer stage's clock stops while this one runs
        outer = _OPEN[-1]
        SECONDS[str(outer[0])] += now - float(outer[1])  # type: ignore[arg-type]
    _OPEN.append([label, now])
    try:
        yield
    finally:
        now = time.perf_counter()
        SECONDS[label] += now - float(_OPEN.pop()[1])  # type: ignore[arg-type]
        if _OPEN:
            _OPEN[-1][1] = now


@contextmanager
def again() -> Iterator[None]:
    """Mark what runs inside as a repeated reading of a page."""
    before = _AGAIN[0]
    _AGAIN[0] = True
    try:
        yield
    finally:
        _AGAIN[0] = before


def reset() -> dict[str, float]:
    """The stages so far (seconds), and start again from zero."""
    out = dict(SECONDS)
    SECONDS.clear()
    return out
