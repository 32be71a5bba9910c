"""Dash pages of the product, and how a page reaches its app's settings and Redis.

Pages never import the app (dispatch/web/app.py builds it). Each page module has a
`register(app)` that registers the page and binds its callbacks to that app:
`app.callback`, not the global `@dash.callback`, because Dash moves global
callbacks into the first app it sets up and leaves later apps (tests build
several per process) without them.

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


class PictureUnavailable(RuntimeError):
    """The current picture cannot be read now; the message says why, for a person."""


@dataclass(frozen=True)
class UiContext:
    settings: Settings
    # Returns read_snapshot's dict, or raises PictureUnavailable.
    snapshot: Callable[[], dict]
    # Runs an operation with the process's Redis client behind the app's breaker;
    # a Redis failure comes out as PictureUnavailable, anything else as raised.
    redis: Callable[[Callable[[redis.Redis], T]], T]

    @property
    def keys(self) -> Keys:
        return Keys(self.settings.site)


def install(server: flask.Flask, ui_context: UiContext) -> None:
    server.extensions[_EXTENSION] = ui_context


def context() -> UiContext:
    return flask.current_app.extensions[_EXTENSION]
