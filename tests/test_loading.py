"""Batches prepared ahead in a background thread arrive in order, carry the producer's errors, and stop with the
loop that reads them."""

import threading
import time
from collections.abc import Iterator

import pytest

from tagging.loading import prefetched


def counting(limit: int, produced: list[int]) -> Iterator[int]:
    for value in range(limit):
        produced.append(value)
        yield value


def test_items_arrive_in_the_order_produced_at_any_depth() -> None:
    for depth in (0, 1, 2, 5):
        with prefetched(counting(50, []), depth) as items:
            assert list(items) == list(range(50))


def test_the_producer_runs_ahead_of_the_consumer_by_at_most_the_depth() -> None:
    produced: list[int] = []
    with prefetched(counting(100, produced), depth=3) as items:
        first = next(items)
        deadline = time.monotonic() + 5
        while len(produced) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert first == 0
        # one handed out, three waiting, one made and waiting for room
        assert len(produced) == 5


def test_an_error_while_producing_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("feature file vanished")

    received = []
    with pytest.raises(OSError, match="vanished"), prefetched(failing(), 2) as items:
        for item in items:
            received.append(item)
    assert received == [1, 2]


def test_leaving_the_loop_early_stops_the_producer() -> None:
    produced: list[int] = []
    before = threading.active_count()
    with pytest.raises(RuntimeError), prefetched(counting(10_000, produced), 2) as items:
        for item in items:
            if item == 3:
                raise RuntimeError("the training step failed")
    assert threading.active_count() == before
    assert len(produced) < 10
