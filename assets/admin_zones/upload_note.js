/* Zones page: the note under the upload box when the browser refuses a file as too large (the upload
 * component drops it without a word: it never reaches the server, which would say why). Pure
 * (tests/js/admin_zones/upload_note.test.js). */

/** A size as the server says it (admin_zones_callbacks.size_text): "1 MB", "1.4 MB", "350 kB". */
export function sizeText(bytes) {
  return bytes >= 999500 ? (bytes / 1000000).toFixed(1).replace(/\.0$/, "") + " MB"
    : Math.max(1, Math.round(bytes / 1000)) + " kB";
}

/** The note for the files chosen or dropped ({name, size}), at most `limit` bytes each (0: no limit); "" when all fit. */
export function uploadNote(files, limit) {
  const big = Array.prototype.filter.call(files, function (file) { return limit && file.size > limit; });
  return big.length
    ? "Not imported: " + big[0].name + " is " + sizeText(big[0].size) + ": at most " + sizeText(limit) +
      ". Simplify the perimeters or split the file."
    : "";
}
