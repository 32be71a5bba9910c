"""One package per page (screen, tablet, replay, audit, accounts, zones, signin), each with the same files:
__init__.py (`register(app)`), layout.py, ids.py, handlers.py, and logic.py where there is plain work to test."""
