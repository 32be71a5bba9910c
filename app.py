"""Dash entry point: `gunicorn app:server` serves the app; `python app.py` runs the whole demo.

Settings come from the environment once, at import. Without REDIS_URL the app
still builds (the launcher imports this file before it has started Redis) and
answers 503 with the reason until it is served with REDIS_URL set.
"""

from dispatch.settings import Settings
from dispatch.web.app import create_app

settings = Settings.from_env()
app = create_app(settings)
server = app.server

if __name__ == "__main__":
    from dispatch.demo.launcher import main
    raise SystemExit(main())
