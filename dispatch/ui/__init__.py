"""Dash pages of the product: pages/<page>/ (layout.py, ids.py, handlers.py, and `register(app)` in its
__init__.py), and what several pages share here (top bar, map legend and looks, formatting).

Pages never import the app (dispatch/web/app.py builds it from them). Each page's `register(app)`
registers the page and binds its callbacks to that app: `app.callback`, not the global
`@dash.callback`, because Dash moves global callbacks into the first app it sets up and leaves later
apps (tests build several per process) without them. A page reaches the app's settings and Redis
through dispatch/web/context.py, and who is signed in through dispatch/web/auth.py.
"""
