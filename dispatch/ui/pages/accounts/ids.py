"""Component ids of the accounts page ("/admin"), in one place: layout, handlers, CSS and tests name them from here.

They all start with "ad-" (the zones page uses "adz-"); styles are in assets/admin/admin.css.
"""

ROOT = "ad-root"
LOCATION = "ad-location"  # sends an administrator who reset their own password to the sign-in page
VERSION = "ad-version"  # bumped by every change: the table follows it
TABLE = "ad-table"  # the AG Grid of accounts
COUNT = "ad-count"
MESSAGE = "ad-message"

CODE = "ad-code"
ROLE = "ad-role"
PASSWORD = "ad-password"
PASSWORD_CONFIRM = "ad-password-confirm"
CREATE = "ad-create"
CREATE_MESSAGE = "ad-create-message"

TABLE_ERROR = "ad-table-error"  # why the accounts cannot be read, when they cannot
# The table's row buttons (the grid's cellRendererData value {"action": ...}, rowId = the account's code):
RESET = "reset"
DELETE = "delete"
UNLOCK = "unlock"  # lifts the row's sign-in delay
PENDING = "ad-pending"  # {"action": "reset" | "delete", "user": code} while the panel is open
PANEL = "ad-panel"
PANEL_TITLE = "ad-panel-title"
PANEL_MESSAGE = "ad-panel-message"
DELETE_PART = "ad-delete-part"
CONFIRM_CODE = "ad-confirm-code"
DELETE_GO = "ad-delete-go"
RESET_PART = "ad-reset-part"
RESET_PASSWORD = "ad-reset-password"
RESET_CONFIRM = "ad-reset-confirm"
RESET_GO = "ad-reset-go"
CANCEL = "ad-cancel"

