"""What every page's map shares: where it opens before it knows better, the tiles' attribution, and the
legend drawn from layers.py's looks (the wall screen's and the replay's)."""

from __future__ import annotations

from dash import html

from . import layers as L

RENNES = (48.111, -1.680)  # the demo site; the map fits the authorised zones (or the tablet's position) once known
ZOOM = 13
MAX_ZOOM = 19  # street level; the tile layer's own limit
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def glyph(classes: str, letter: str = "") -> html.Span:
    inner = [html.Span(letter, className="pin-letter")] if letter else []
    return html.Span(className="glyph-wrap", children=html.Span(inner, className=f"glyph {classes}"))


def legend_blocks(*, leave_out: tuple[str, ...] = ()) -> list[html.Div]:
    """The legend's blocks, from layers.py's looks, each with its glyph."""
    return [html.Div(className="legend-block", children=[
        html.Div(title, className="legend-title"),
        *[html.Div(className="legend-row", children=[glyph(look.glyph, look.letter), html.Span(look.label)])
          for look in looks],
    ]) for title, looks in L.legend_sections() if title not in leave_out]
