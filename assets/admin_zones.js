/*
 * Zones page (dispatch/ui/admin_zones.py): the two things the server cannot do.
 *
 * - A file over the size limit is refused by the upload component in the browser, without a
 *   word (it never reaches the server, which would say why): say it here, in the note under the
 *   upload box, with textContent (a file name is user text).
 * - The delete confirmation, when it appears, takes the keyboard focus, so Enter confirms and
 *   Tab reaches "Keep it"; when it goes, focus returns to the page's list.
 *
 * Loaded on every page (assets are): does nothing unless the zones page is on screen.
 */
(function () {
  "use strict";

  var ROOT = "adz-root";
  if (!/\/admin\/zones\/?$/.test(window.location.pathname)) return;  // another page: nothing to do

  function root() {
    return document.getElementById(ROOT);
  }

  function sizeText(bytes) {
    // As the server says it (admin_zones_callbacks.size_text): "1 MB", "1.4 MB", "350 kB".
    return bytes >= 999500 ? (bytes / 1000000).toFixed(1).replace(/\.0$/, "") + " MB"
      : Math.max(1, Math.round(bytes / 1000)) + " kB";
  }

  function checkFiles(files) {
    var note = document.getElementById("adz-upload-note");
    if (!note || !files) return;
    var limit = Number(note.dataset.maxBytes) || 0;
    var big = Array.prototype.filter.call(files, function (file) { return limit && file.size > limit; });
    note.textContent = big.length
      ? "Not imported: " + big[0].name + " is " + sizeText(big[0].size) + ": at most " + sizeText(limit) +
        ". Simplify the perimeters or split the file."
      : "";
  }

  function inUpload(target) {
    return target && target.closest && target.closest("#adz-upload");
  }

  document.addEventListener("change", function (event) {
    if (root() && inUpload(event.target) && event.target.files) checkFiles(event.target.files);
  }, true);

  document.addEventListener("drop", function (event) {
    if (root() && inUpload(event.target) && event.dataTransfer) checkFiles(event.dataTransfer.files);
  }, true);

  var observed = null;
  function watchConfirm() {
    var box = document.getElementById("adz-confirm");
    if (!box || box === observed) return;
    observed = box;
    var wasHidden = box.classList.contains("hidden");
    new MutationObserver(function () {
      var hidden = box.classList.contains("hidden");
      if (hidden === wasHidden) return;
      wasHidden = hidden;
      if (!hidden) {
        var yes = document.getElementById("adz-confirm-yes");
        if (yes) yes.focus();
      } else if (box.contains(document.activeElement)) {
        var list = document.getElementById("adz-table");
        var first = list && list.querySelector("button");
        if (first) first.focus();
      }
    }).observe(box, { attributes: true, attributeFilter: ["class"] });
  }

  // Dash renders the page after this script runs: look for it as the document changes, until found.
  var finder = new MutationObserver(function () {
    if (!root()) return;
    watchConfirm();
    if (observed) finder.disconnect();
  });
  finder.observe(document.documentElement, { childList: true, subtree: true });
})();
