// The SQLite statements keep their prepared plans: no bare limit parameter, which SQLite prepares anew on every bind
// (measured in bench/RESULTS.md, issue 12).
import assert from "node:assert/strict";

const SOURCES = [
  "db/sqlite_store.ts",
  "db/sqlite_search.ts",
  "db/sqlite_files.ts",
  "ops/portable_db.ts",
];

Deno.test("sqlite statements: every bound limit is written `LIMIT ? + 0`", async () => {
  const root = new URL("../", import.meta.url);
  let limits = 0;
  for (const file of SOURCES) {
    const text = await Deno.readTextFile(new URL(file, root));
    for (const match of text.matchAll(/LIMIT\s+\?\d*(\s*\+\s*0)?/g)) {
      limits++;
      assert.ok(match[1], `${file}: "${match[0]}" is prepared again each time it is bound`);
    }
  }
  assert.ok(limits > 10, `found ${limits} limits: the files still hold the statements`);
});
