"""Django's Redis cache, failing open: an unreachable Redis reads as an empty cache and writes are dropped.

What the cache holds can always be had elsewhere (sessions from the database under `cached_db`, calibration
intervals by computing them again), so a restarted or unreachable Redis slows requests and runs down a little
instead of failing them. Timeouts are short for the same reason: a hung Redis must not hang the pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _failing_open(method: Callable[..., Any], fallback: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: FailOpenRedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            log.warning("cache unreachable (%s): %s treated as a miss", exc.__class__.__name__, method.__name__)
            return fallback(*args, **kwargs)

    call.__name__ = method.__name__
    return call


class FailOpenRedisCache(RedisCache):
    get = _failing_open(RedisCache.get, lambda key, default=None, version=None: default)
    get_many = _failing_open(RedisCache.get_many, lambda keys, version=None: {})
    has_key = _failing_open(RedisCache.has_key, lambda key, version=None: False)
    set = _failing_open(RedisCache.set, lambda *args, **kwargs: None)
    add = _failing_open(RedisCache.add, lambda *args, **kwargs: False)
    touch = _failing_open(RedisCache.touch, lambda *args, **kwargs: False)
    set_many = _failing_open(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    delete = _failing_open(RedisCache.delete, lambda *args, **kwargs: False)
    delete_many = _failing_open(RedisCache.delete_many, lambda *args, **kwargs: None)
    clear = _failing_open(RedisCache.clear, lambda: None)
