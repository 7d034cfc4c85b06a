"""time_limit: the alarm stops a piece of work, also when it rings where Python swallows it."""

from __future__ import annotations

import time

import pytest

from outreach.sources.bounds import Overrun, time_limit


def test_the_alarm_stops_a_long_piece_of_work() -> None:
    """A loop that would run for seconds is stopped at its time."""
    began = time.monotonic()
    with pytest.raises(Overrun), time_limit(0.05):
        while time.monotonic() - began < 5:
            pass
    assert time.monotonic() - began < 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_alarm_swallowed_in_a_destructor_still_overruns() -> None:
    """The alarm rings inside a __del__ (the collector's, a weakref callback's: Python prints
    "Exception ignored" and goes on); the block ends late without an Overrun of its own, so one
    is raised at its end: late work is never taken for work done in time."""

    class Slow:
        def __del__(self) -> None:
            time.sleep(0.2)  # the alarm rings in here

    with pytest.raises(Overrun), time_limit(0.05):
        Slow()


def test_work_done_in_time_is_done() -> None:
    """Within its time a block just runs."""
    with time_limit(1.0):
        total = sum(range(1000))
    assert total == 499500
