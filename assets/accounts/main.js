/*
 * Accounts page ("/admin", dispatch/ui/pages/accounts), browser side: dispatch/web/page_scripts.py
 * loads this entry module on that page only.
 *
 * - The table is an AG Grid whose row buttons (reset password, delete, lift the sign-in delay) are
 *   drawn by the shared RowButtons renderer.
 * - When the confirmation panel closes (done or cancelled) while it holds the focus, the focus
 *   returns to the table's first enabled button, not to the page's top.
 */
import "../common/grid_buttons.js";
import { returnFocusWhenHidden } from "../common/focus_return.js";

returnFocusWhenHidden({ box: "ad-panel", hiddenClass: "hidden", list: "ad-table" });
