"""Helpers shared by the tests: real processes, the served app, TLS front, slow clients, sign-in."""
