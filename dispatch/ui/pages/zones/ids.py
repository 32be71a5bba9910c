"""Component ids of the zones page ("/admin/zones"), in one place; they all start with "adz-"."""

ROOT = "adz-root"
MESSAGE = "adz-message"
MAP = "adz-map"
ZONES_LAYER = "adz-zones"
DRAWN = "adz-drawn"
EDIT_CONTROL = "adz-edit-control"
FORM_TITLE = "adz-form-title"
ZONE_ID = "adz-zone-id"
NAME = "adz-name"
DECREE = "adz-decree"
VALID_FROM = "adz-from"
VALID_UNTIL = "adz-until"
PERIMETER = "adz-perimeter"
SAVE = "adz-save"
CLEAR = "adz-clear"
UPLOAD = "adz-upload"
UPLOAD_NOTE = "adz-upload-note"  # written by assets/admin_zones/main.js when the browser refuses a file
COUNT = "adz-count"
TABLE = "adz-table"  # the AG Grid of zones
CONFIRM_BOX = "adz-confirm"
CONFIRM_TEXT = "adz-confirm-text"
CONFIRM_YES = "adz-confirm-yes"
CONFIRM_NO = "adz-confirm-no"
PENDING = "adz-pending"  # the zone whose deletion awaits confirmation
EDITING = "adz-editing"  # the zone loaded into the form (logic.editing_state)
VERSION = "adz-version"  # changed after every save or deletion: the table and the map redraw
DIGEST = "adz-digest"  # what the table shows, so a periodic look redraws only when something changed
TICK = "adz-tick"
TABLE_ERROR = "adz-table-error"  # why the zones cannot be read, when they cannot
# The table's row buttons (the grid's cellRendererData value {"action": ...}, rowId = the zone's id):
EDIT = "edit"
DELETE = "delete"
ZONE_SHAPE = "adz-zone"  # prefix of each zone's polygon on the map: f"{ZONE_SHAPE}-{status}-{zone_id}"

# The ids assets/admin_zones/main.js looks up (name -> id), given to it as JSON in the root's data-ids.
SCRIPT_IDS = {"upload": UPLOAD, "upload_note": UPLOAD_NOTE, "confirm": CONFIRM_BOX, "confirm_yes": CONFIRM_YES,
              "table": TABLE}
