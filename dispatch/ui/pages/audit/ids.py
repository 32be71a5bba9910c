"""Component ids of the audit page ("/audit"), in one place; they all start with "au-"."""

from .logic import QUICK_WINDOWS

ROOT = "au-root"
FROM = "au-from"
TO = "au-to"
QUICK = {choice: f"au-quick-{choice}" for choice in QUICK_WINDOWS}
ACTOR = "au-actor"
ROLE = "au-role"
ACTIONS = "au-actions"
TARGET = "au-target"
OUTCOME = "au-outcome"
SHOW = "au-show"
BUSY = "au-busy"
ERRORS = "au-errors"
SUMMARY = "au-summary"
TABLE = "au-table"
APPLIED = "au-applied"  # the filter the list on screen was shown with: the export takes it
EXPORT = "au-export"
EXPORT_BUSY = "au-export-busy"
EXPORT_MESSAGE = "au-export-message"
DOWNLOAD = "au-download"
SUBMITTING_FIELDS = (FROM, TO, ACTOR, TARGET)  # Enter in any of them shows the list
