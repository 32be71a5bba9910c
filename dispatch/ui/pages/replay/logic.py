"""What the replay page asks the server, as plain functions: the Dash glue (handlers.py) only adds the request.

- which window: `resolve_window` turns the page's choice ("this shift", "last
  hour", or a custom from/to typed in local time) into a Window, refusing
  with a readable reason what cannot be replayed (reversed, too long, no
  longer retained) and saying what it clipped;
- loading it: `load_history` is the cache's loader (store/history.load_window
  with ingest's clock limits) and refuses a window where nothing was recorded;
- what the browser draws: `window_summary` (events, zones, counts) once, then
  `frame_at(t)` for every instant it shows;
- the figures (`metric_frames`, `build_figures`) and the files that leave the
  system (`figure_download`; `export_stream`, the page's exports since issue 15,
  streamed by /api/replay/export; `export_download`, the whole-file builder it
  replaced, kept as bench/export.py's reference), each of which records an
  `export` entry in the audit trail first; opening a window records
  `replay_opened` (`record_opened`).

Taking a Redis client or a History as an argument, these run the same in the
integration tests as behind the page.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import math
import re
from dataclasses import dataclass
from typing import Iterator
from datetime import datetime, time as clock_time, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pandas as pd
import redis

from ....domain.audit import Action, AuditRole, make_entry
from ....domain.replay.history import History, frame_payload
from ....domain.replay.progressive import Checkpoints
from ....domain.replay.export import export_csv, export_geojson, feature_count, iter_csv, iter_geojson, position_count
from ....domain.replay.kml import export_kml, iter_kml
from ....domain.replay.metrics import (
    figure_csv, heatmap, outcomes, response_summary, response_times, sightings_per_category, utilisation,
)
from ....domain.replay.zone_history import ZoneVersion
from ....domain.zones import zone_to_geojson
from ....keys import Keys
from ....web.replay_cache import Window, WindowUnavailable
from ....settings import Settings
from ....store.audit import record
from ....store.history import LoadProgress, ProgressCallback, clock_limits, load_window
from . import figures

PRESET_HOURS = {"shift": 8.0, "hour": 1.0}
# Longest custom window: an 8-hour shift holds about 100 MiB once loaded (bench/replay.py); a
# day and a half of one would hold several hundred per window in a process that keeps three.
DEFAULT_MAX_WINDOW_HOURS = 12.0
HEAT_CELL_M = 250.0
# A unit's whole track, on request: 2,000 points draw in a few milliseconds and, over a shift,
# still show every turn at the map's scale; the exact position at the chosen instant is always kept.
TRACK_POINTS = 2_000
TRACK_KINDS = ("drone", "patrol")
# Above this a file goes out gzip-compressed (.gz): a full shift's CSV is ~170 MB of text, and
# dcc.Download carries it inside one JSON answer that the browser must hold whole.
GZIP_ABOVE_BYTES = 16 * 2**20
EXPORT_FORMATS = ("geojson", "csv", "kml")
EVENT_COLUMNS = ("ts", "kind", "event", "id", "sighting_id", "patrol_id", "actor", "detail")
_LOCAL_DATETIME = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2})[:hH](\d{2})(?::(\d{2}))?\s*$")


class WindowRefused(ValueError):
    """A window or instant the page cannot replay; the message says why, for a person."""


@dataclass(frozen=True)
class ChosenWindow:
    window: Window
    choice: str
    label: str  # the window in local time, for the page and the audit trail
    note: str = ""  # what was adjusted, e.g. clipped to what is retained


# ----------------------------------------------------------------------------- the window


def resolve_window(choice: object, custom_from: object, custom_to: object, *, site: str, now_ms: int, tz: str,
                   retention_ms: int, max_hours: float = DEFAULT_MAX_WINDOW_HOURS) -> ChosenWindow:
    """The window the page asked for, or WindowRefused. Presets end now; custom windows are local times."""
    now_ms = int(now_ms) // 1000 * 1000  # to the second: the page shows no finer
    if choice in PRESET_HOURS:
        from_ms, to_ms = now_ms - int(PRESET_HOURS[choice] * 3_600_000), now_ms
    elif choice == "custom":
        from_ms = parse_local(custom_from, tz, "start")
        to_ms = parse_local(custom_to, tz, "end")
    else:
        raise WindowRefused("Choose this shift, the last hour, or a custom window")
    if to_ms <= from_ms:
        raise WindowRefused(f"The window ends ({local_text(to_ms, tz)}) before it starts ({local_text(from_ms, tz)})")
    if from_ms >= now_ms:
        raise WindowRefused(f"The window starts in the future ({local_text(from_ms, tz)}): nothing to replay yet")
    if to_ms - from_ms > max_hours * 3_600_000:
        raise WindowRefused(f"At most {max_hours:g} hours can be replayed at once; this window is "
                            f"{(to_ms - from_ms) / 3_600_000:.1f} h. Replay it in parts.")
    oldest = now_ms - retention_ms
    if to_ms <= oldest:
        raise WindowRefused(f"Recordings are kept {retention_ms / 86_400_000:g} days: nothing before "
                            f"{local_text(oldest, tz)} is retained any more")
    notes = []
    if to_ms > now_ms:
        to_ms = now_ms
        notes.append("ends now")
    if from_ms < oldest:
        from_ms = oldest
        notes.append(f"starts at {local_text(oldest, tz)}, the oldest instant still retained")
    window = Window(site, from_ms, to_ms)
    return ChosenWindow(window, str(choice), window_label(window, tz), "; ".join(notes))


def parse_local(value: object, tz: str, what: str = "time") -> int:
    """"2026-03-14T21:00" (what a datetime-local input sends; seconds optional) on the site's clock -> ms."""
    found = _LOCAL_DATETIME.match(value) if isinstance(value, str) else None
    if not found:
        raise WindowRefused(f"Give the {what} as a date and a time, e.g. 2026-03-14 21:00")
    year, month, day, hour, minute, second = (int(part) if part else 0 for part in found.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    except ValueError:
        raise WindowRefused(f"The {what} {value.strip()!r} is not a real date and time") from None
    return _ms(moment)


def parse_instant(text: object, window: Window, tz: str) -> int:
    """An instant typed on the page: "21:35", "21h35", "21:35:10" or a full "2026-03-14 21:35", in the window.

    A time of day alone means its first occurrence in the window (a night
    shift spans two dates).
    """
    if not isinstance(text, str) or not text.strip():
        raise WindowRefused("Type a time such as 21:35 or 21:35:10")
    if _LOCAL_DATETIME.match(text):
        instant = parse_local(text, tz)
        if window.from_ms <= instant <= window.to_ms:
            return instant
    else:
        found = _TIME_OF_DAY.match(text)
        if not found:
            raise WindowRefused(f"Not a time: {text.strip()[:20]!r}; type e.g. 21:35 or 21:35:10")
        hour, minute, second = (int(part) if part else 0 for part in found.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise WindowRefused(f"Not a time of day: {text.strip()[:20]!r}")
        zone = ZoneInfo(tz)
        day = _local(window.from_ms, tz).date()
        while day <= _local(window.to_ms, tz).date():
            instant = _ms(datetime.combine(day, clock_time(hour, minute, second), tzinfo=zone))
            if window.from_ms <= instant <= window.to_ms:
                return instant
            day += timedelta(days=1)
    raise WindowRefused(f"{text.strip()[:20]} is not in the window ({window_label(window, tz)})")


def window_label(window: Window, tz: str) -> str:
    start, end = _local(window.from_ms, tz), _local(window.to_ms, tz)
    same_day = start.date() == end.date()
    return (f"{start:%a %d %b %H:%M:%S} → {end:%H:%M:%S}" if same_day
            else f"{start:%a %d %b %H:%M:%S} → {end:%a %d %b %H:%M:%S}")


def local_text(ms: int, tz: str) -> str:
    return f"{_local(ms, tz):%a %d %b %H:%M}"


def _local(ms: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone(ZoneInfo(tz))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# ----------------------------------------------------------------------------- loading


def load_history(client: redis.Redis, keys: Keys, window: Window, progress: ProgressCallback, *,
                 settings: Settings) -> History:
    """The cache's loader: the retained streams over the window, judged as ingest judged them."""
    def forward(report: LoadProgress) -> None:  # an empty window is refused below: no empty first frame first
        if report.prefix is not None and not _recorded(report.prefix):
            report = dataclasses.replace(report, prefix=None)
        progress(report)

    history = load_window(client, keys, window.from_ms, window.to_ms, progress=forward,
                          limits=clock_limits(settings.max_future_s, settings.max_past_s),
                          chunk=settings.replay_chunk, prefixes=Checkpoints(min_interval_s=settings.replay_prefix_s))
    if not _recorded(history):
        raise WindowUnavailable(f"Nothing was recorded in this window ({window_label(window, settings.timezone)}, "
                                f"{settings.timezone}): no drone, patrol, sighting or alert")
    return history


def _recorded(history: History) -> bool:
    return bool(len(history.telemetry) or len(history.patrol_reports) or len(history.events()))


def window_summary(history: History, zones: list[ZoneVersion]) -> dict:
    """What the browser needs once per window: bounds, the event list (columnar), zones, counts.

    `zones` are the versions stored during the window (domain/replay/zone_history.py): each feature carries
    `stored_from_ms` and `stored_until_ms` (null when unbounded), and the page shows a version only at
    the instants it was stored."""
    events = history.events()
    columns = {}
    for name in EVENT_COLUMNS:
        values = events[name].tolist()
        columns[name] = [int(v) for v in values] if name == "ts" else [_text_or_none(v) for v in values]
    from_ms, to_ms = history.bounds
    return {
        "from_ms": from_ms, "to_ms": to_ms, "events": columns,
        "zones": [_stored_feature(version) for version in zones],
        "counts": {"drones": len(history.drone_ids), "patrols": len(history.patrol_ids),
                   "sightings": int(history.sightings["sighting_id"].nunique()), "events": len(events)},
    }


def _stored_feature(version: ZoneVersion) -> dict:
    feature = zone_to_geojson(version.zone)
    feature["properties"].update(stored_from_ms=version.stored_from_ms, stored_until_ms=version.stored_until_ms)
    return feature


def frame_ready(history: History, t_ms: int) -> bool:
    """Whether the History answers instant `t_ms` (clamped to the window) exactly: a window still loading
    answers only up to its loaded_until_ms (domain/replay/progressive.py)."""
    from_ms, to_ms = history.bounds
    return min(max(int(t_ms), from_ms), to_ms) <= history.loaded_until_ms


def frame_at(history: History, t_ms: int) -> dict:
    """The picture at `t_ms` (clamped to the window) as the browser draws it (domain/replay/payload.py)."""
    from_ms, to_ms = history.bounds
    return frame_payload(history.picture_at(min(max(int(t_ms), from_ms), to_ms)))


def track_of(history: History, kind: str, unit_id: str, t_ms: int, *, max_points: int = TRACK_POINTS) -> dict:
    """One drone's or patrol's whole track in the window, downsampled for display to `max_points`,
    always keeping its exact position at `t_ms` (where the page shows it): the line passes through
    the marker at every instant. While the window loads, the track so far: up to its loaded_until_ms."""
    if kind not in TRACK_KINDS:
        raise WindowRefused(f"No track for {str(kind)[:20]!r}: expected drone or patrol")
    track = history.track(kind, unit_id, to_ms=history.loaded_until_ms, max_points=max_points, at_ms=int(t_ms))
    coordinates = [[round(lon, 6), round(lat, 6)] for lat, lon in zip(track["lat"].tolist(), track["lon"].tolist())]
    return {"kind": kind, "id": unit_id, "ts": track["ts"].tolist(), "coordinates": coordinates,
            "loaded_until_ms": history.loaded_until_ms}


def _text_or_none(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


# ----------------------------------------------------------------------------- figures


def bucket_seconds(window: tuple[int, int]) -> int:
    """Sightings-per-category buckets: about 10 to 30 bars whatever the window's length."""
    hours = (window[1] - window[0]) / 3_600_000
    return 300 if hours <= 2 else 900 if hours <= 8 else 1800


def metric_frames(history: History) -> dict[str, pd.DataFrame]:
    """The numbers behind each figure (replay_page.FIGURES names); the figure's CSV is exactly this frame."""
    times = response_times(history)
    return {
        "response_times": times,
        "response_distribution": response_summary(times),
        "sightings_per_category": sightings_per_category(history, bucket_seconds(history.bounds)),
        "heatmap": heatmap(history, HEAT_CELL_M),
        "utilisation": utilisation(history),
        "outcomes": outcomes(history),
    }


def build_figures(frames: dict[str, pd.DataFrame], bounds: tuple[int, int], tz: str) -> dict:
    return {
        "response_times": figures.response_times_figure(frames["response_times"], tz),
        "response_distribution": figures.response_distribution_figure(frames["response_times"],
                                                                      frames["response_distribution"]),
        "sightings_per_category": figures.sightings_per_category_figure(frames["sightings_per_category"], tz,
                                                                        bucket_seconds(bounds)),
        "heatmap": figures.heatmap_figure(frames["heatmap"], HEAT_CELL_M),
        "utilisation": figures.utilisation_figure(frames["utilisation"]),
        "outcomes": figures.outcomes_figure(frames["outcomes"]),
    }


def build_figure(name: str, history: History, tz: str):
    """One figure, from only the numbers it needs (issue 15): the page asks for each as it comes into view,
    one at a time, so that neither the server nor the browser builds or draws all six in one go."""
    if name not in FIGURE_BUILDERS:
        raise WindowRefused(f"No figure named {name[:40]!r}")
    return FIGURE_BUILDERS[name](history, tz)


def _response_distribution(history: History, tz: str):
    times = response_times(history)
    return figures.response_distribution_figure(times, response_summary(times))


FIGURE_BUILDERS = {
    "response_times": lambda history, tz: figures.response_times_figure(response_times(history), tz),
    "response_distribution": _response_distribution,
    "sightings_per_category": lambda history, tz: figures.sightings_per_category_figure(
        sightings_per_category(history, bucket_seconds(history.bounds)), tz, bucket_seconds(history.bounds)),
    "heatmap": lambda history, tz: figures.heatmap_figure(heatmap(history, HEAT_CELL_M), HEAT_CELL_M),
    "utilisation": lambda history, tz: figures.utilisation_figure(utilisation(history)),
    "outcomes": lambda history, tz: figures.outcomes_figure(outcomes(history)),
}


# ----------------------------------------------------------------------------- audit and files


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail: a pseudonymous code, the role acted in, the client's address."""

    user_id: str
    role: str = AuditRole.SUPERVISOR.value
    origin: str = "internal"


def record_opened(client: redis.Redis, keys: Keys, chosen: ChosenWindow, actor: Actor, now_ms: int) -> str | None:
    """`replay_opened`: who looked at which recordings, recorded before anything is shown."""
    window = chosen.window
    return record(client, keys, make_entry(
        ts=now_ms, actor=actor.user_id, role=actor.role, action=Action.REPLAY_OPENED, target=window.site,
        origin=actor.origin, details={"from_ms": window.from_ms, "to_ms": window.to_ms, "choice": chosen.choice,
                                      "window": chosen.label[:120]}))


def figure_download(client: redis.Redis, keys: Keys, history: History, name: str, actor: Actor, *, site: str,
                    tz: str, now_ms: int, frames: dict[str, pd.DataFrame] | None = None) -> dict:
    """One figure's numbers as a CSV file for dcc.Download, its export recorded first."""
    frames = frames if frames is not None else metric_frames(history)
    if name not in frames:
        raise WindowRefused(f"No figure named {name[:40]!r}")
    frame = frames[name]
    filename = f"{_file_stem(site, history.bounds, tz)}-{name.replace('_', '-')}.csv"
    return _audited_file(client, keys, history, actor, now_ms, figure_csv(frame).encode(), filename, "text/csv",
                         {"format": "csv", "figure": name, "rows": len(frame)})[0]


def export_download(client: redis.Redis, keys: Keys, history: History, fmt: str, actor: Actor, *, site: str,
                    tz: str, now_ms: int) -> tuple[dict, str]:
    """The window as GeoJSON or KML (tracks, sightings) or CSV (every position), for dcc.Download; returns the file
    and a line for the page. Recorded in the audit trail before it leaves: no entry, no file."""
    stem = _file_stem(site, history.bounds, tz)
    if fmt == "geojson":
        collection = export_geojson(history)
        body, filename, kind = orjson.dumps(collection), f"{stem}.geojson", "application/geo+json"
        rows = len(collection["features"])
        what = f"{rows} features (tracks and sightings)"
    elif fmt == "csv":
        text = export_csv(history)
        body, filename, kind = text.encode(), f"{stem}-positions.csv", "text/csv"
        rows = text.count("\n") - 1
        what = f"{rows:,} positions"
    elif fmt == "kml":  # Google Earth: the GeoJSON's tracks (as gx:Track, timed) and sightings
        body, filename, kind = export_kml(history, name=stem), f"{stem}.kml", "application/vnd.google-earth.kml+xml"
        rows = body.count(b"<Placemark>")
        what = f"{rows} placemarks (tracks and sightings)"
    else:
        raise WindowRefused(f"Unknown export format {str(fmt)[:20]!r}: expected {' or '.join(EXPORT_FORMATS)}")
    download, compressed = _audited_file(client, keys, history, actor, now_ms, body, filename, kind,
                                         {"format": fmt, "rows": rows})
    size = f"{len(body) / 1e6:.1f} MB"
    return download, (f"{download['filename']}: {what}, {size} (gzip-compressed to download)" if compressed
                      else f"{download['filename']}: {what}, {size}")


@dataclass(frozen=True)
class StreamedExport:
    """A streamed export, its audit entry already written: what the route sends (issue 15, exports)."""

    filename: str
    mimetype: str
    rows: int
    body: Iterator[bytes]


def export_stream(client: redis.Redis, keys: Keys, history: History, fmt: str, actor: Actor, *, site: str,
                  tz: str, now_ms: int) -> StreamedExport:
    """The window as export_download's file, uncompressed, written piece by piece as it is read from the History.

    The `export` entry is recorded first, with export_download's details (format, rows, window, file name),
    except `bytes`, unknown before the last piece: `streamed: true` says so. No entry, no file: a failed
    record raises before any piece is made. Nothing is gzip-compressed: the browser writes the stream to
    disk as it comes, so there is no whole file to hold (the proxy may still compress it on the wire).
    """
    stem = _file_stem(site, history.bounds, tz)
    if fmt == "geojson":
        filename, kind, rows, body = f"{stem}.geojson", "application/geo+json", feature_count(history), \
            iter_geojson(history)
    elif fmt == "csv":
        filename, kind, rows, body = f"{stem}-positions.csv", "text/csv", position_count(history), iter_csv(history)
    elif fmt == "kml":
        filename, kind, rows = f"{stem}.kml", "application/vnd.google-earth.kml+xml", feature_count(history)
        body = iter_kml(history, name=stem)
    else:
        raise WindowRefused(f"Unknown export format {str(fmt)[:20]!r}: expected {' or '.join(EXPORT_FORMATS)}")
    from_ms, to_ms = history.bounds
    record(client, keys, make_entry(
        ts=now_ms, actor=actor.user_id, role=actor.role, action=Action.EXPORT, target=keys.site, origin=actor.origin,
        details={"format": fmt, "rows": rows, "from_ms": from_ms, "to_ms": to_ms, "file": filename[:120],
                 "streamed": True}))
    return StreamedExport(filename, kind, rows, body)


def export_filename(site: str, bounds: tuple[int, int], tz: str, fmt: str) -> str:
    """The name export_stream gives a format's file, for the page's line before the download starts."""
    stem = _file_stem(site, bounds, tz)
    return {"geojson": f"{stem}.geojson", "csv": f"{stem}-positions.csv", "kml": f"{stem}.kml"}[fmt]


def _audited_file(client: redis.Redis, keys: Keys, history: History, actor: Actor, now_ms: int, body: bytes,
                  filename: str, kind: str, details: dict) -> tuple[dict, bool]:
    from_ms, to_ms = history.bounds
    compressed = len(body) > GZIP_ABOVE_BYTES
    if compressed:
        body, filename, kind = gzip.compress(body, compresslevel=1, mtime=0), filename + ".gz", "application/gzip"
    record(client, keys, make_entry(
        ts=now_ms, actor=actor.user_id, role=actor.role, action=Action.EXPORT, target=keys.site, origin=actor.origin,
        details={**details, "from_ms": from_ms, "to_ms": to_ms, "file": filename[:120], "bytes": len(body)}))
    if compressed:
        return {"content": base64.b64encode(body).decode("ascii"), "filename": filename, "type": kind,
                "base64": True}, True
    return {"content": body.decode("utf-8"), "filename": filename, "type": kind, "base64": False}, False


def _file_stem(site: str, bounds: tuple[int, int], tz: str) -> str:
    start, end = _local(bounds[0], tz), _local(bounds[1], tz)
    return f"replay-{site}-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}"

