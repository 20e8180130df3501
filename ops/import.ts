// `deno task import <file>`: loads an export into an empty database (SQLite or PostgreSQL), batch by batch.
import { Buffer } from "node:buffer";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Store } from "../db/store.ts";
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader, type ExportLine } from "./export.ts";
import { openConfiguredStore } from "./open_configured.ts";
import { portableDatabase, type Row, type TableInfo } from "./portable_db.ts";

/** Rows written per transaction. */
const BATCH_ROWS = 500;

/** Thrown when the target database holds data and the import was not told to go on. */
export class TargetNotEmptyError extends Error {}

/** What an import did. */
export interface ImportSummary {
  /** Rows written. */
  written: number;
  /** Rows skipped because a row with their primary key was there (a re-run). */
  skipped: number;
  contents: number;
}

/**
 * Splits a byte stream into its lines (without their newline), holding one line at a time.
 */
export async function* readLines(bytes: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of bytes) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      const line = rest + text.slice(start, end);
      rest = "";
      if (line !== "") yield line;
      start = end + 1;
    }
    rest += text.slice(start);
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}

/**
 * Loads an export (its lines) into `store`, which must be empty: migrated but unused (nothing
 * but settings and the seed room `general`, which the export's rooms replace) — else it throws
 * {@link TargetNotEmptyError}, unless `force`: then rows whose primary key is there already
 * are skipped and the rest written, so that running the same import again (after an
 * interruption, or twice) changes nothing. Rows go in batches of {@link BATCH_ROWS}, one
 * transaction each, with their ids; settings from the export replace the target's (the cookie
 * secret with them); files' bytes are checked against their SHA-256 and stored as the store
 * keeps them (files folder or blob_chunks); id numbering continues after the export's.
 */
export async function importStore(
  store: Store,
  lines: AsyncIterable<string>,
  options: { force?: boolean; progress?: (message: string) => void } = {},
): Promise<ImportSummary> {
  const db = portableDatabase(store);
  const iterator = lines[Symbol.asyncIterator]();
  let pushedBack: ExportLine | undefined;
  let lineNumber = 0;
  async function next(): Promise<ExportLine | undefined> {
    if (pushedBack) {
      const line = pushedBack;
      pushedBack = undefined;
      return line;
    }
    const { value, done } = await iterator.next();
    if (done) return undefined;
    lineNumber++;
    try {
      return JSON.parse(value);
    } catch {
      throw new Error(`Line ${lineNumber} of the export is not JSON: the file is damaged`);
    }
  }

  const first = await iterator.next();
  lineNumber++;
  const header = (first.done ? {} : JSON.parse(first.value)) as Partial<ExportHeader>;
  if (header.format !== EXPORT_FORMAT || header.version !== EXPORT_VERSION) {
    throw new Error(`This is not a Parley export of version ${EXPORT_VERSION}`);
  }
  const schema = await db.schemaVersion();
  if (header.schema !== schema) {
    throw new Error(
      `The export is of schema ${header.schema}, this database of schema ${schema}: ` +
        "import with the same Parley version that exported it",
    );
  }

  const tables = new Map((await db.tables()).map((table) => [table.name, table]));
  const occupied: string[] = [];
  for (const table of tables.values()) {
    if (table.name === "settings") continue;
    const count = await db.countRows(table);
    if (count > 0) occupied.push(`${table.name} (${count})`);
  }
  if (occupied.length > 0 && !options.force) {
    throw new TargetNotEmptyError(
      `The target database is not empty: ${occupied.join(", ")}. Import into an empty ` +
        "database, or add --force to skip the rows already there (to finish or repeat an import)",
    );
  }
  if (occupied.length === 0) await db.removeSeedRoom();

  const summary: ImportSummary = { written: 0, skipped: 0, contents: 0 };
  let batch: Row[] = [];
  let batchTable: TableInfo | undefined;
  let rowsRead = 0;
  async function flush() {
    if (!batchTable || batch.length === 0) return;
    const written = await db.insertRows(batchTable, batch, {
      replace: batchTable.name === "settings",
    });
    summary.written += written;
    summary.skipped += batch.length - written;
    batch = [];
  }
  function tableNamed(name: string): TableInfo {
    const table = tables.get(name);
    if (!table) {
      throw new Error(
        `The export has a table ${name} that this database does not: ` +
          "import with the same Parley version that exported it",
      );
    }
    return table;
  }
  async function* contentPieces(sha256: string, data: string): AsyncIterable<Uint8Array> {
    yield Buffer.from(data, "base64");
    for (;;) {
      const line = await next();
      if (line && "content" in line && line.content === sha256) {
        yield Buffer.from(line.data, "base64");
        continue;
      }
      pushedBack = line;
      return;
    }
  }

  for (let line = await next(); line; line = await next()) {
    if ("table" in line) {
      if (batchTable?.name !== line.table || batch.length >= BATCH_ROWS) {
        await flush();
        batchTable = tableNamed(line.table);
      }
      batch.push(line.row);
      rowsRead++;
      if (rowsRead % 100_000 === 0) options.progress?.(`${rowsRead} rows`);
    } else if ("content" in line) {
      await flush(); // its blobs row first
      await db.writeContent(line.content, contentPieces(line.content, line.data));
      summary.contents++;
    } else if ("ids" in line) {
      await flush();
      await db.continueIds(tableNamed(line.ids), line.last);
    } else if ("end" in line) {
      await flush();
      if (line.rows !== rowsRead) {
        throw new Error(`The export says ${line.rows} rows but holds ${rowsRead}`);
      }
      await db.analyze();
      options.progress?.(`${rowsRead} rows`);
      return summary;
    } else {
      throw new Error(`Line ${lineNumber} of the export is not one this Parley knows`);
    }
  }
  await flush();
  throw new Error(
    `The export ends after ${rowsRead} rows without its last line: it was cut off. ` +
      "Import a complete export (with --force to keep what this run wrote)",
  );
}

const USAGE = `Usage: deno task import <file> [--force]

Loads an export ("-" for stdin) into the database the configuration names (DATABASE_URL,
else SQLITE_PATH, with the files folder PARLEY_FILES_DIR), made and migrated if need be. The
database must be empty (new, or only started once).

  --force   import into a database that has rows: rows already there (same primary key) are
            kept and skipped, the others written; re-running an import changes nothing
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    Deno.exit(values.help ? 0 : 2);
  }
  // `deno task` runs in the project folder: a relative path is from where it was typed.
  const source = positionals[0] === "-"
    ? "-"
    : resolve(Deno.env.get("INIT_CWD") ?? ".", positionals[0]);
  const input = source === "-" ? Deno.stdin.readable : (await Deno.open(source)).readable;
  const store = await openConfiguredStore({ mustExist: false });
  const started = performance.now();
  try {
    const summary = await importStore(store, readLines(input), {
      force: values.force,
      progress: (message) => console.error(`import: ${message}`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(
      `import: ${summary.written} rows written, ${summary.skipped} already there, ` +
        `${summary.contents} file contents, in ${seconds} s into ${store.kind}`,
    );
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`import failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
