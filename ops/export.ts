// `deno task export [file]`: writes the whole database (SQLite or PostgreSQL) as a portable, line-delimited JSON stream.
import { Buffer } from "node:buffer";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Store } from "../db/store.ts";
import { openConfiguredStore } from "./open_configured.ts";
import { portableDatabase, type Row } from "./portable_db.ts";

/** The format's name and version, in the first line of every export. */
export const EXPORT_FORMAT = "parley-export";
export const EXPORT_VERSION = 1;
/** Rows read per query (keyset pages by primary key). */
const PAGE_ROWS = 1000;
/** Bytes of a file's content per line (base64: 256 KiB of text). */
export const CONTENT_PIECE_BYTES = 192 * 1024;

/** The first line of an export. */
export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: number;
  /** Migrations applied to the exported database: an import needs the same. */
  schema: number;
  source: "sqlite" | "postgres";
}

/**
 * The lines after the header: a row (`{"table","row"}`), the bytes of the content of the
 * `blobs` row before it (`{"content","data"}`, base64, in order, one or more lines), a table's
 * id numbering (`{"ids","last"}`, after the table's rows), and the last line (`{"end","rows"}`).
 */
export type ExportLine =
  | { table: string; row: Row }
  | { content: string; data: string }
  | { ids: string; last: number }
  | { end: true; rows: number };

/** What an export wrote. */
export interface ExportSummary {
  /** Rows per table, in the order written. */
  tables: Record<string, number>;
  rows: number;
  contents: number;
  contentBytes: number;
}

/** Tables left out unless asked for: sessions (without them, everyone logs in again). */
const SESSION_TABLES = ["sessions"];

/**
 * Writes everything in `store` to `write`, one line (with its newline) per call: the header,
 * then every table in an order that satisfies foreign keys, each read by primary key in pages
 * of {@link PAGE_ROWS} from one snapshot, so that memory stays flat however large the database.
 * Settings are included, the cookie signing secret with them: with `sessions`, sessions move
 * too and stay valid.
 */
export async function exportStore(
  store: Store,
  write: (line: string) => Promise<void>,
  options: { sessions?: boolean; progress?: (message: string) => void } = {},
): Promise<ExportSummary> {
  const db = portableDatabase(store);
  const tables = (await db.tables()).filter((table) =>
    options.sessions || !SESSION_TABLES.includes(table.name)
  );
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    schema: await db.schemaVersion(),
    source: db.kind,
  };
  await write(JSON.stringify(header) + "\n");
  const summary: ExportSummary = { tables: {}, rows: 0, contents: 0, contentBytes: 0 };
  await db.read(async (reader) => {
    for (const table of tables) {
      let count = 0;
      let after: Row | null = null;
      for (;;) {
        const rows = await reader.page(table, after, PAGE_ROWS);
        for (const row of rows) {
          // A PostgreSQL upload under way keeps its bytes under a temporary key: not content yet.
          if (table.name === "blobs" && String(row.sha256).startsWith("tmp-")) continue;
          await write(JSON.stringify({ table: table.name, row } satisfies ExportLine) + "\n");
          count++;
          if (table.name === "blobs") {
            const sha256 = String(row.sha256);
            for await (const piece of db.content(sha256, Number(row.size), CONTENT_PIECE_BYTES)) {
              const data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
                .toString("base64");
              await write(JSON.stringify({ content: sha256, data } satisfies ExportLine) + "\n");
              summary.contentBytes += piece.byteLength;
            }
            summary.contents++;
          }
        }
        if (rows.length < PAGE_ROWS) break;
        after = rows[rows.length - 1];
        if (count % 100_000 < PAGE_ROWS) options.progress?.(`${table.name}: ${count} rows`);
      }
      if (table.idColumn) {
        const last = await reader.lastId(table);
        await write(JSON.stringify({ ids: table.name, last } satisfies ExportLine) + "\n");
      }
      summary.tables[table.name] = count;
      summary.rows += count;
      options.progress?.(`${table.name}: ${count} rows`);
    }
  });
  await write(JSON.stringify({ end: true, rows: summary.rows } satisfies ExportLine) + "\n");
  return summary;
}

/**
 * A line writer to `output` that gathers lines into writes of about 1 MiB; `flush()` writes
 * what is left.
 */
export function bufferedWriter(output: { write(bytes: Uint8Array): Promise<number> }) {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let pendingLength = 0;
  async function writeAll(bytes: Uint8Array) {
    for (let written = 0; written < bytes.byteLength;) {
      written += await output.write(bytes.subarray(written));
    }
  }
  return {
    async write(line: string): Promise<void> {
      pending.push(line);
      pendingLength += line.length;
      if (pendingLength >= 1 << 20) await this.flush();
    },
    async flush(): Promise<void> {
      if (pending.length === 0) return;
      const text = pending.join("");
      pending = [];
      pendingLength = 0;
      await writeAll(encoder.encode(text));
    },
  };
}

/** The default file name: `parley-export-<UTC time>.ndjson`. */
export function defaultExportName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `parley-export-${stamp}.ndjson`;
}

const USAGE = `Usage: deno task export [file] [--sessions]

Writes the database the configuration names (DATABASE_URL, else SQLITE_PATH, with the files
folder PARLEY_FILES_DIR) to <file> (default parley-export-<UTC time>.ndjson; "-" for stdout).

  --sessions   include sessions: with them (and the settings, which hold the cookie secret),
               people stay logged in after an import; without, they log in again
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { sessions: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length > 1) {
    console.log(USAGE);
    Deno.exit(values.help ? 0 : 2);
  }
  // `deno task` runs in the project folder: a relative path is from where it was typed.
  const target = positionals[0] === "-"
    ? "-"
    : resolve(Deno.env.get("INIT_CWD") ?? ".", positionals[0] ?? defaultExportName());
  const file = target === "-" ? null : await Deno.open(target, { write: true, createNew: true })
    .catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      throw new Error(`${target} exists already: give another file name`);
    });
  let store: Store | undefined;
  let done = false;
  const started = performance.now();
  const writer = bufferedWriter(file ?? Deno.stdout);
  try {
    store = await openConfiguredStore({ mustExist: true });
    const summary = await exportStore(store, (line) => writer.write(line), {
      sessions: values.sessions,
      progress: (message) => console.error(`export: ${message}`),
    });
    await writer.flush();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const size = file ? (await file.stat()).size : undefined;
    console.error(
      `export: ${summary.rows} rows, ${summary.contents} file contents ` +
        `(${summary.contentBytes} bytes) in ${seconds} s` +
        (file ? ` to ${target} (${size} bytes)` : "") +
        (values.sessions ? "" : "; sessions left out: people log in again after an import"),
    );
    done = true;
  } finally {
    file?.close();
    await store?.close();
    // No half-written export left behind.
    if (file && !done) await Deno.remove(target).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`export failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
