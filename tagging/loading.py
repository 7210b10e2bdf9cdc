"""Batches prepared ahead of the model, in a background thread.

Reading a clip's features (from disk, for a dataset too large for memory), cutting its crops and masking them take
time the model would otherwise wait through; on a GPU that wait is most of an epoch. `prefetched` runs the
producing generator in one thread of its own, a few batches ahead of the loop that consumes them.

One thread rather than worker processes: the producer draws every crop position and mask from the training's own
random generator, in the same order as before, so a model is the same with or without prefetching and a training
resumed from its checkpoint goes on exactly as an uninterrupted one would (worker processes would each need a
generator of their own). File reads and numpy's array work release the GIL for most of their time, and the model
runs in torch's own threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

PREFETCH_BATCHES = 2  # batches prepared ahead: enough to hide a slow read, little memory (a batch is a few MB)
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


@contextmanager
def prefetched(items: Iterator[T], depth: int = PREFETCH_BATCHES) -> Iterator[Iterator[T]]:
    """What `items` yields, in order, produced up to `depth` items ahead in a background thread; an exception raised
    while producing is raised in the consumer at the item where it happened. `depth` 0 produces in the caller's
    thread. Leaving the block early (an error in the consumer) stops the producer before the block returns."""
    if depth <= 0:
        yield items
        return
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    def consume() -> Iterator[T]:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    producer = threading.Thread(target=produce, name="batch-prefetch", daemon=True)
    producer.start()
    try:
        yield consume()
    finally:
        stop.set()
        producer.join()
