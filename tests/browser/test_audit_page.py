"""The auditor's page in a real Chromium, served by gunicorn, signed in as auditor AUD-1.

The trail is seeded through store.audit.record; everything checked is what the page shows: the rows
(data attributes and text), the refused marker, the error box, and that markup written into an entry's
reason stays text (`window.__xss` never set, no element created from it).
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.keys import Keys as Key

from dispatch.domain.audit import Action, make_entry
from dispatch.store import audit as audit_store
from dispatch.ui.pages.audit import ids as P
from dispatch.ui.pages.audit import layout as audit_layout
from tests.browser.conftest import sign_in_browser
from tests.support.processes import wait_until
from dispatch.ui.pages.audit import ids as audit_ids

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
# The grid's rows in their order on screen: id, classes, and each column's text in COLUMNS order.
ROWS = """const fields = arguments[0];
return Array.from(document.querySelectorAll(`#${arguments[1]} .ag-center-cols-container .ag-row`))
  .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))
  .map(row => ({id: row.getAttribute('row-id'), classes: row.className,
    action: row.querySelector('.ag-cell[col-id=action]')?.textContent,
    cells: fields.map(field => row.querySelector(`.ag-cell[col-id=${field}]`)?.textContent)}));"""
# Sets a React-controlled input's value as typing would (the native setter, then an input event).
SET_VALUE = """const input = document.getElementById(arguments[0]);
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, arguments[1]);
input.dispatchEvent(new Event('input', {bubbles: true}));"""
COLUMN = {name: number for number, name in enumerate(audit_layout.COLUMNS)}


@pytest.fixture
def trail(settings, keys, redis_client) -> dict[str, str]:
    at = int(time.time() * 1000) - 20_000
    written = {
        "assigned": dict(actor="SUP-1", role="supervisor", action="assignment_created", target="asg-000001",
                         details={"patrol_id": "BAC-12"}),
        "zone": dict(actor="ADM-1", role="administrator", action="zone_saved", target="Z-1"),
        "hostile": dict(actor="BAC-12", role="patrol", action="assignment_state_changed", target="asg-000001",
                        outcome="refused", reason=HOSTILE),
    }
    return {name: audit_store.record(redis_client, keys, make_entry(ts=at + n, origin="10.0.0.9", **fields))
            for n, (name, fields) in enumerate(written.items())}


class AuditPage:
    def __init__(self, driver, url: str):
        self.driver, self.url = driver, url

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def open(self) -> "AuditPage":
        self.driver.get(self.url + "/audit")
        return self

    def rows(self) -> list[dict]:
        return self.js(ROWS, [field for field, _ in audit_layout.GRID_FIELDS], P.TABLE)

    def wait_rows(self, predicate, what: str) -> list[dict]:
        return wait_until(lambda: (rows := self.rows()) and predicate(rows) and rows, timeout=15, what=what)

    def show(self) -> None:
        self.js("document.getElementById(arguments[0]).click()", P.SHOW)

    def errors(self) -> str:
        return self.js("return document.getElementById(arguments[0]).textContent", P.ERRORS)


def test_the_auditor_lists_filters_and_reads_the_trail_as_text(browser, settings, web, trail, redis_client, keys):
    sign_in_browser(browser, settings, user_id="AUD-1", role="auditor")
    page = AuditPage(browser, web).open()

    # On load: the last 24 h, newest first, the refused row marked by colour and by its marker text.
    rows = page.wait_rows(lambda rows: len(rows) == 3, "the seeded entries listed on load")
    assert [r["id"] for r in rows] == [trail["hostile"], trail["zone"], trail["assigned"]]
    hostile = rows[0]
    assert "au-row-refused" in hostile["classes"] and hostile["cells"][COLUMN["Outcome"]] == "✖ refused"
    assert "au-row-refused" not in rows[1]["classes"] and rows[1]["cells"][COLUMN["Outcome"]] == "✓ ok"
    assert "s ago" in hostile["cells"][COLUMN["Time"]]
    assert rows[2]["cells"][COLUMN["Details"]] == "patrol_id=BAC-12"
    assert "append-only" in page.js("return document.querySelector('.au-note').textContent")

    # The reason's markup is text: shown literally, nothing created from it, nothing run.
    assert hostile["cells"][COLUMN["Reason"]] == HOSTILE
    assert page.js(f"return document.querySelectorAll('#{audit_ids.TABLE} img, #{audit_ids.TABLE} script').length") == 0
    assert page.js("return typeof window.__xss") == "undefined"

    # Filtering by action narrows the table (the multi-select: open, search, Enter, close).
    browser.find_element("id", P.ACTIONS).click()
    search = wait_until(lambda: browser.find_elements("css selector", f"#{P.ROOT} .dash-dropdown-search"),
                        timeout=5, what="the actions' search box")[0]
    search.send_keys("zone_saved")
    search.send_keys(Key.ENTER)
    search.send_keys(Key.ESCAPE)
    page.show()
    rows = page.wait_rows(lambda rows: len(rows) == 1, "only the zone_saved entry")
    assert [(r["id"], r["action"]) for r in rows] == [(trail["zone"], "zone_saved")]
    assert page.errors() == ""

    # A window that ends before it starts: refused with what to fix; the list stays as it was.
    page.js(SET_VALUE, P.FROM, "2030-01-02T10:00")
    page.js(SET_VALUE, P.TO, "2030-01-01T10:00")
    page.show()
    wait_until(lambda: "is not before To" in page.errors(), timeout=10, what="the window's error shown")
    assert "From (2030-01-02 10:00) is not before To (2030-01-01 10:00): swap them, or change one." in page.errors()
    # An actor typed as a name, submitted with Enter: refused, and the name is not repeated back.
    page.js(SET_VALUE, P.FROM, "")
    page.js(SET_VALUE, P.TO, "")
    actor = browser.find_element("id", P.ACTOR)
    actor.send_keys("Jean Dupont" + Key.ENTER)
    wait_until(lambda: "Actor:" in page.errors(), timeout=10, what="the actor's error shown")
    assert "From" not in page.errors() and "Dupont" not in page.errors()
    assert [r["id"] for r in page.rows()] == [trail["zone"]]

    # Two showings (the load and the filter) are on the trail; the refused forms are not.
    viewed = [e for e in audit_store.read(redis_client, keys) if e.action is Action.AUDIT_VIEWED]
    assert [(e.actor, e.details.get("actions")) for e in viewed] == [("AUD-1", None), ("AUD-1", "zone_saved")]
    assert page.js("return typeof window.__xss") == "undefined"


def test_quick_window_and_export_from_the_page(browser, settings, web, trail, redis_client, keys):
    sign_in_browser(browser, settings, user_id="AUD-1", role="auditor")
    page = AuditPage(browser, web).open()
    page.wait_rows(lambda rows: len(rows) == 3, "the seeded entries listed on load")
    page.js("document.getElementById(arguments[0]).click()", P.QUICK["hour"])
    # The load's own audit_viewed entry is now within the hour too.
    rows = page.wait_rows(lambda rows: len(rows) == 4, "the last hour, with the first viewing in it")
    assert rows[0]["action"] == "audit_viewed" and rows[0]["cells"][COLUMN["Actor"]] == "AUD-1"
    assert page.js("return document.getElementById(arguments[0]).value", P.TO) == ""

    page.js("document.getElementById(arguments[0]).click()", P.EXPORT)
    message = wait_until(lambda: page.js("return document.getElementById(arguments[0]).textContent",
                                         P.EXPORT_MESSAGE), timeout=10, what="the export's message")
    assert message.startswith(f"audit-{keys.site}-") and message.endswith(": 4 entries.")
    exports = [e for e in audit_store.read(redis_client, keys) if e.action is Action.EXPORT]
    assert [(e.actor, e.details["rows"]) for e in exports] == [("AUD-1", 4)]
