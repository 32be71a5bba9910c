"""The after-action replay page: registration and API (page), layout, handlers, figures."""
