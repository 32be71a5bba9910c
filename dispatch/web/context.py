"""How a page or a route reaches its app's settings and Redis.

What a page needs at run time (settings, the snapshot reader, Redis behind the
app's circuit breaker) is installed on the Flask server by `install` and looked
up with `context()`, inside a request: layouts and callbacks both run in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import flask
import redis

from ..keys import Keys
from ..settings import Settings

_EXTENSION = "dispatch"
T = TypeVar("T")


@dataclass(frozen=True)
class UiContext:
    settings: Settings
    # Returns read_snapshot's dict, or raises dispatch.errors.PictureUnavailable.
    snapshot: Callable[[], dict]
    # Runs an operation with the process's Redis client behind the app's breaker;
    # a Redis failure comes out as dispatch.errors.PictureUnavailable, anything else as raised.
    redis: Callable[[Callable[[redis.Redis], T]], T]

    @property
    def keys(self) -> Keys:
        return Keys(self.settings.site)


def install(server: flask.Flask, ui_context: UiContext) -> None:
    server.extensions[_EXTENSION] = ui_context


def context() -> UiContext:
    return flask.current_app.extensions[_EXTENSION]
