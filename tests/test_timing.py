"""``extractors.timing``: each stage counts its own time only, so the stages add up."""

from __future__ import annotations

import time

from extractors import timing


def test_a_nested_stage_stops_the_outer_clock_and_again_is_counted_apart() -> None:
    timing.reset()
    t0 = time.perf_counter()
    with timing.stage("outer"):
        time.sleep(0.03)
        with timing.stage("inner"):
            time.sleep(0.06)
        with timing.again(), timing.stage("inner"):
            time.sleep(0.02)
        time.sleep(0.03)
    total = time.perf_counter() - t0
    got = timing.reset()
    assert set(got) == {"outer", "inner", "inner, again"}
    assert 0.055 <= got["inner"] < 0.09 and 0.015 <= got["inner, again"] < 0.05
    assert 0.055 <= got["outer"] < 0.09  # its own 60 ms, not the 140 ms it spans
    assert abs(sum(got.values()) - total) < 0.005
    assert timing.reset() == {}


def test_a_stage_that_raises_still_counts_and_closes() -> None:
    timing.reset()
    try:
        with timing.stage("outer"), timing.stage("failing"):
            raise ValueError
    except ValueError:
        pass
    with timing.stage("next"):
        pass
    assert set(timing.reset()) == {"outer", "failing", "next"}
