// assets/admin_zones/upload_note.js: the note when the browser refuses a file too large.
import { test } from "node:test";
import assert from "node:assert/strict";

import { sizeText, uploadNote } from "../../../assets/admin_zones/upload_note.js";

test("sizes read as the server writes them", () => {
  assert.equal(sizeText(350_000), "350 kB");
  assert.equal(sizeText(200), "1 kB", "never 0 kB");
  assert.equal(sizeText(999_499), "999 kB");
  assert.equal(sizeText(999_500), "1 MB");
  assert.equal(sizeText(1_000_000), "1 MB");
  assert.equal(sizeText(1_400_000), "1.4 MB");
});

test("the first file over the limit is named; files within it leave no note", () => {
  const files = [{ name: "small.geojson", size: 10_000 }, { name: "big.geojson", size: 3_200_000 },
    { name: "bigger.geojson", size: 9_000_000 }];
  assert.equal(uploadNote(files, 2_000_000),
    "Not imported: big.geojson is 3.2 MB: at most 2 MB. Simplify the perimeters or split the file.");
  assert.equal(uploadNote(files.slice(0, 1), 2_000_000), "");
  assert.equal(uploadNote([{ name: "at.geojson", size: 2_000_000 }], 2_000_000), "", "exactly the limit fits");
  assert.equal(uploadNote(files, 0), "", "no limit known: no note");
});
