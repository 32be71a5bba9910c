"""Which scripts each page loads: its own, and only its own.

Dash adds every file of the assets folder to every page. For JavaScript that
means the tablet downloading the wall screen's 3,000 lines and every page
sharing one global namespace. So the app ignores `.js` assets
(`ASSETS_IGNORE`) and this module adds each page's scripts to the page's HTML:

- `modules`: the page's ES module entry (`assets/<page>/main.js`); it imports
  what it needs (`assets/common/*.js`), the browser fetches the rest.
- `classic`: plain scripts that must set globals before the modules run
  (a vendored Leaflet plug-in that extends `window.L`).

Module scripts run after the document is parsed, so the Dash renderer, which
would otherwise call the page's clientside start-up before its module has
defined it, is started by an inline *module* script placed after them:
deferred scripts run in document order. Its text is Dash's own, so the
Content-Security-Policy hash Dash computes for it still matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dash
import flask

# Dash's assets_ignore is matched against file names: no script is added to every page.
ASSETS_IGNORE = r"\.js$"


@dataclass(frozen=True)
class PageScripts:
    classic: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()


# Page path -> scripts, paths relative to assets/. Pages absent here load no script of ours.
PAGES: dict[str, PageScripts] = {
    "/": PageScripts(classic=("vendor/leaflet.markercluster.js",), modules=("screen/main.js",)),
    "/patrol": PageScripts(modules=("tablet/main.js",)),
    "/replay": PageScripts(modules=("replay/main.js",)),
    "/admin/zones": PageScripts(modules=("admin_zones/main.js",)),
    "/admin": PageScripts(modules=("accounts/main.js",)),
}


def page_path(app: dash.Dash, request_path: str) -> str:
    """The page a request asks for, without the app's URL prefix ("/dispatch/replay" -> "/replay")."""
    return "/" + (app.strip_relative_path(request_path) or "")


def script_tags(app: dash.Dash, scripts: PageScripts, assets: Path) -> str:
    """The page's <script> tags; each URL carries the file's modification time, like Dash's own assets."""
    def url(name: str) -> str:
        return f"{app.get_asset_url(name)}?m={int((assets / name).stat().st_mtime)}"

    tags = [f'<script src="{url(name)}"></script>' for name in scripts.classic]
    tags += [f'<script type="module" src="{url(name)}"></script>' for name in scripts.modules]
    return "\n".join(tags)


def install(app: dash.Dash, assets: Path) -> None:
    """Serve each page its own scripts (see the module's docstring) and have browsers revalidate them."""
    interpolate_index = app.interpolate_index

    def interpolate_with_page_scripts(**kwargs):
        scripts = PAGES.get(page_path(app, flask.request.path))
        if scripts is not None:
            kwargs["scripts"] = kwargs["scripts"] + "\n" + script_tags(app, scripts, assets)
        kwargs["renderer"] = f'<script id="_dash-renderer" type="module">{app.renderer}</script>'
        return interpolate_index(**kwargs)

    app.interpolate_index = interpolate_with_page_scripts

    @app.server.after_request
    def revalidate_scripts(response: flask.Response) -> flask.Response:
        """A module's imports carry no ?m= stamp: browsers must ask again (a 304 when unchanged)."""
        if flask.request.path.endswith(".js") and "/assets/" in flask.request.path:
            response.headers["Cache-Control"] = "no-cache"
        return response
