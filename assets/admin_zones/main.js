/*
 * Zones page (dispatch/ui/admin_zones.py), browser side: the two things the server cannot do.
 * dispatch/web/page_scripts.py loads this entry module on "/admin/zones" only.
 *
 * - A file over the size limit is refused by the upload component in the browser, without a
 *   word (it never reaches the server, which would say why): say it here, in the note under the
 *   upload box, with textContent (a file name is user text; upload_note.js).
 * - The delete confirmation, when it appears, takes the keyboard focus, so Enter confirms and
 *   Tab reaches "Keep it"; when it goes, focus returns to the page's list (its first row button).
 * - The list is an AG Grid whose Edit and Delete buttons are drawn by the shared RowButtons renderer.
 *
 * The component ids come from the page's root, which carries them as JSON in data-ids
 * (admin_zones.SCRIPT_IDS: name -> id): nothing here repeats the layout's ids.
 */
import { idLookup } from "../common/dom.js";
import { firstButton } from "../common/focus_return.js";
import "../common/grid_buttons.js";
import { uploadNote } from "./upload_note.js";

let byId = null; // set once the page's root is rendered

function root() {
  return document.querySelector("[data-ids]");
}

function checkFiles(files) {
  const note = byId("upload_note");
  if (!note || !files) return;
  note.textContent = uploadNote(files, Number(note.dataset.maxBytes) || 0);
}

function inUpload(target) {
  const upload = byId && byId("upload");
  return upload && target && target.nodeType === 1 && upload.contains(target);
}

document.addEventListener("change", function (event) {
  if (inUpload(event.target) && event.target.files) checkFiles(event.target.files);
}, true);

document.addEventListener("drop", function (event) {
  if (inUpload(event.target) && event.dataTransfer) checkFiles(event.dataTransfer.files);
}, true);

let observed = null;
function watchConfirm() {
  const box = byId("confirm");
  if (!box || box === observed) return;
  observed = box;
  let wasHidden = box.classList.contains("hidden");
  new MutationObserver(function () {
    const hidden = box.classList.contains("hidden");
    if (hidden === wasHidden) return;
    wasHidden = hidden;
    if (!hidden) {
      const yes = byId("confirm_yes");
      if (yes) yes.focus();
    } else if (box.contains(document.activeElement)) {
      const first = firstButton(byId("table"));
      if (first) first.focus();
    }
  }).observe(box, { attributes: true, attributeFilter: ["class"] });
}

// Dash renders the page after this module runs: look for it as the document changes, until found.
const finder = new MutationObserver(function () {
  const page = root();
  if (!page) return;
  byId = byId || idLookup(JSON.parse(page.dataset.ids));
  watchConfirm();
  if (observed) finder.disconnect();
});
finder.observe(document.documentElement, { childList: true, subtree: true });
