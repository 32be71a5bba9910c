"""The Dash app's shell: app factory, sign-in and sessions, JSON APIs, the replay cache."""
