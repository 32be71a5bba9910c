"""What the pages' AG Grid tables (dash-ag-grid) share: their look and their row buttons.

The look follows the page's colours (style.css variables) and keeps type as large as the page's.
Row buttons are drawn in the browser by the `RowButtons` cell renderer (assets/common/grid_buttons.js):
each row carries its buttons as plain data, and a click comes back to Python as the grid's
`cellRendererData` ({"value": {"action": ...}, "rowId": ...}).
"""

from __future__ import annotations

GRID_STYLE = {"--ag-background-color": "var(--bg)", "--ag-foreground-color": "var(--text)",
              "--ag-header-background-color": "var(--panel-2)", "--ag-header-text-color": "var(--muted)",
              "--ag-border-color": "var(--line)", "--ag-row-border-color": "var(--line)",
              "--ag-odd-row-background-color": "rgba(255, 255, 255, 0.025)", "--ag-font-size": "15px",
              "--ag-font-family": "inherit", "--ag-input-focus-border-color": "var(--text)"}

BUTTONS_RENDERER = "RowButtons"  # the name grid_buttons.js registers in window.dashAgGridComponentFunctions


def overlay_text(no_rows: str, loading: str) -> dict:
    """The grid's empty and loading words as plain text (AG Grid's localeText). Its overlay *templates* are HTML,
    which dash-ag-grid blocks (and logs as an error) unless code is dangerously allowed."""
    return {"noRowsToShow": no_rows, "loadingOoo": loading}


def row_button(action: str, label: str, *, title: str, aria_label: str, class_name: str,
               disabled: bool = False) -> dict:
    """One button of a row, as the renderer reads it; `aria_label` names the row (a screen reader hears
    "Delete SUP-5", not a column of "Delete")."""
    return {"action": action, "label": label, "title": title, "ariaLabel": aria_label, "className": class_name,
            "disabled": disabled}


# AG Grid takes Tab, Enter and Space for its own cell navigation; on a row button they are the button's: Tab goes to
# the next button (the browser's order, which ensureDomOrder keeps the rows'), Enter and Space press it.
BUTTON_KEYS = {"function": "params.event.target.tagName === 'BUTTON' && (params.event.key === 'Tab'"
                           " || params.event.key === 'Enter' || params.event.key === ' ')"}


def buttons_column(header: str = "Actions", **extra) -> dict:
    """The column holding a row's buttons: not sorted or filtered, as tall as its buttons need, keys left to them."""
    return {"field": "buttons", "headerName": header, "cellRenderer": BUTTONS_RENDERER, "sortable": False,
            "filter": False, "autoHeight": True, "cellClass": "grid-buttons-cell", "suppressKeyboardEvent": BUTTON_KEYS,
            **extra}


def clicked(data) -> tuple[str, str] | None:
    """(action, row id) of a row button's click from the grid's cellRendererData, or None for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("value"), dict):
        return None
    action, row_id = data["value"].get("action"), data.get("rowId")
    if not isinstance(action, str) or not isinstance(row_id, str):
        return None
    return action, row_id
