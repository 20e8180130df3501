// One view of a Parley database, SQLite or PostgreSQL, for export and import: tables, rows, file contents, id sequences.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type postgres from "postgres";
import { CHUNK_BYTES } from "../db/postgres_files.ts";
import { PostgresStore } from "../db/postgres_store.ts";
import type { ContentFolder } from "../db/sqlite_files.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import { optimizeSearchIndex } from "../db/sqlite_search.ts";
import type { Store } from "../db/store.ts";

type Sql = ReturnType<typeof postgres>;
type Querier = Sql | postgres.TransactionSql;

/** A row as exported: column name to value (integers, text, null; booleans as 0/1). */
export type Row = Record<string, string | number | null>;

/** A table as export and import see it. */
export interface TableInfo {
  name: string;
  /** The columns written and read, by name (generated columns left out). */
  columns: string[];
  /** The primary key's columns, in key order: rows are read in this order. */
  primaryKey: string[];
  /** Tables this one references (itself left out). */
  references: string[];
  /** The column numbered by the database (SQLite INTEGER PRIMARY KEY, PostgreSQL identity). */
  idColumn?: string;
}

/** Reads one consistent snapshot of a database. */
export interface SnapshotReader {
  /** Up to `limit` rows of `table` after the row with primary key `after`, by primary key. */
  page(table: TableInfo, after: Row | null, limit: number): Promise<Row[]>;
  /**
   * The highest id the table's numbering has given (at least the highest id there), so that
   * ids are never given twice after a move; 0 for a table that never had a row.
   */
  lastId(table: TableInfo): Promise<number>;
}

/** Tables that hold how one kind of database stores things rather than Parley's data. */
const STORAGE_TABLES: Record<"sqlite" | "postgres", string[]> = {
  sqlite: [],
  // The schema version (SQLite keeps it in PRAGMA user_version) and the files' bytes (SQLite
  // keeps them in the files folder); the export carries bytes as contents of their own.
  postgres: ["parley_schema", "blob_chunks"],
};

/** A Parley database of either kind, seen table by table. */
export interface PortableDatabase {
  readonly kind: "sqlite" | "postgres";
  /** Migrations applied. */
  schemaVersion(): Promise<number>;
  /** The tables holding Parley's data, in an order in which every table follows those it references. */
  tables(): Promise<TableInfo[]>;
  /** Runs `work` on one read snapshot (a read transaction). */
  read<T>(work: (reader: SnapshotReader) => Promise<T>): Promise<T>;
  /** The bytes of a stored content, in pieces of at most `pieceBytes`. */
  content(sha256: string, size: number, pieceBytes: number): AsyncIterable<Uint8Array>;
  /** How many rows `table` holds (for `rooms`, not counting the seed room `general`). */
  countRows(table: TableInfo): Promise<number>;
  /** Removes the seed room `general` of an unused database (its import brings its own). */
  removeSeedRoom(): Promise<void>;
  /**
   * Inserts `rows` in one transaction, keeping their ids; a row whose primary key is there
   * already is skipped (`replace`: its values are written over instead). Returns how many
   * rows were written.
   */
  insertRows(table: TableInfo, rows: Row[], options: { replace: boolean }): Promise<number>;
  /**
   * Stores the bytes of a content from `pieces`, checking that their SHA-256 is `sha256`
   * (else stores nothing and throws).
   */
  writeContent(sha256: string, pieces: AsyncIterable<Uint8Array>): Promise<void>;
  /** Makes the table's numbering continue after `lastId` (never moving it back). */
  continueIds(table: TableInfo, lastId: number): Promise<void>;
  /** Refreshes the planner's statistics after a bulk load. */
  analyze(): Promise<void>;
}

/** Thrown when the bytes of a content do not match its key. */
export class ContentMismatchError extends Error {}

/** The portable view of an open store. */
export function portableDatabase(store: Store): PortableDatabase {
  if (store instanceof SqliteStore) return new SqlitePortable(store.db, store.content);
  if (store instanceof PostgresStore) return new PostgresPortable(store.sql);
  throw new Error(`Cannot export or import a ${store.kind} store`);
}

/** Orders tables so that each follows the tables it references (ties by name); throws on a cycle. */
export function orderByReferences(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  const remaining = [...tables].sort((a, b) => a.name.localeCompare(b.name));
  while (remaining.length > 0) {
    const next = remaining.findIndex((table) =>
      table.references.every((name) => placed.has(name) || !byName.has(name))
    );
    if (next < 0) {
      throw new Error(`Tables reference each other in a cycle: ${remaining.map((t) => t.name)}`);
    }
    const [table] = remaining.splice(next, 1);
    ordered.push(table);
    placed.add(table.name);
  }
  return ordered;
}

/** Cuts a stream of byte chunks into pieces of `pieceBytes` (the last may be shorter). */
export async function* rechunk(
  chunks: AsyncIterable<Uint8Array>,
  pieceBytes: number,
): AsyncIterable<Uint8Array> {
  let buffer = new Uint8Array(pieceBytes);
  let filled = 0;
  for await (const chunk of chunks) {
    for (let taken = 0; taken < chunk.byteLength;) {
      const part = chunk.subarray(taken, taken + pieceBytes - filled);
      buffer.set(part, filled);
      filled += part.byteLength;
      taken += part.byteLength;
      if (filled === pieceBytes) {
        yield buffer;
        buffer = new Uint8Array(pieceBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** `name` as a quoted SQL identifier (the same in both dialects). */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `(a, b) > (?, ?)`-style keyset condition and ORDER BY for a primary key. */
function keyset(table: TableInfo, placeholder: (i: number) => string) {
  const key = table.primaryKey.map(quote).join(", ");
  const params = table.primaryKey.map((_, i) => placeholder(i)).join(", ");
  return { after: `(${key}) > (${params})`, order: key };
}

/**
 * The ON CONFLICT clause of an import: skip a row whose primary key is there, or (given the
 * dialect's "differs" operator) write over it, only where a value differs, so that writing the
 * same row again changes (and counts) nothing.
 */
function onConflict(table: TableInfo, columns: string[], differs: string | null): string {
  const key = table.primaryKey.map(quote).join(", ");
  const values = columns.filter((c) => !table.primaryKey.includes(c));
  if (differs === null || values.length === 0) return `ON CONFLICT (${key}) DO NOTHING`;
  const set = values.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ");
  const changed = values.map((c) =>
    `${quote(table.name)}.${quote(c)} ${differs} excluded.${quote(c)}`
  )
    .join(" OR ");
  return `ON CONFLICT (${key}) DO UPDATE SET ${set} WHERE ${changed}`;
}

/** SQLite: the database file through node:sqlite, bytes in the store's files folder. */
class SqlitePortable implements PortableDatabase {
  readonly kind = "sqlite";
  #db: DatabaseSync;
  #content: ContentFolder;

  constructor(db: DatabaseSync, content: ContentFolder) {
    this.#db = db;
    this.#content = content;
  }

  schemaVersion(): Promise<number> {
    return Promise.resolve(Number(this.#db.prepare("PRAGMA user_version").get()?.user_version));
  }

  tables(): Promise<TableInfo[]> {
    const names = this.#db.prepare(
      `SELECT name FROM pragma_table_list
       WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
       ORDER BY name`,
    ).all().map((row) => String(row.name))
      .filter((name) => !STORAGE_TABLES.sqlite.includes(name));
    const tables = names.map((name): TableInfo => {
      const columns = this.#db.prepare(
        "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
      ).all(name);
      const key = columns.filter((c) => Number(c.pk) > 0)
        .sort((a, b) => Number(a.pk) - Number(b.pk));
      const references = this.#db.prepare(
        `SELECT DISTINCT "table" AS name FROM pragma_foreign_key_list(?)`,
      ).all(name).map((row) => String(row.name)).filter((other) => other !== name);
      if (key.length === 0) throw new Error(`The table ${name} has no primary key`);
      const rowid = key.length === 1 && String(key[0].type).toUpperCase() === "INTEGER";
      return {
        name,
        columns: columns.filter((c) => Number(c.hidden) === 0).map((c) => String(c.name)).sort(),
        primaryKey: key.map((c) => String(c.name)),
        references,
        idColumn: rowid ? String(key[0].name) : undefined,
      };
    });
    return Promise.resolve(orderByReferences(tables));
  }

  async read<T>(work: (reader: SnapshotReader) => Promise<T>): Promise<T> {
    const db = this.#db;
    db.exec("BEGIN");
    try {
      return await work({
        page(table, after, limit) {
          const { after: condition, order } = keyset(table, () => "?");
          const columns = table.columns.map(quote).join(", ");
          const where = after ? `WHERE ${condition}` : "";
          const rows = db.prepare(
            `SELECT ${columns} FROM ${quote(table.name)} ${where} ORDER BY ${order} LIMIT ? + 0`,
          ).all(...(after ? table.primaryKey.map((c) => after[c]) : []), limit);
          return Promise.resolve(rows.map((row) => sqliteRow(table, row)));
        },
        lastId(table) {
          return Promise.resolve(sqliteLastId(db, table));
        },
      });
    } finally {
      db.exec("COMMIT");
    }
  }

  async *content(sha256: string, _size: number, pieceBytes: number): AsyncIterable<Uint8Array> {
    const stream = await this.#content.open(sha256);
    if (!stream) throw new Error(`The bytes of the stored content ${sha256} are missing`);
    yield* rechunk(stream, pieceBytes);
  }

  countRows(table: TableInfo): Promise<number> {
    const seed = table.name === "rooms" ? "WHERE slug <> 'general'" : "";
    const row = this.#db.prepare(`SELECT count(*) AS n FROM ${quote(table.name)} ${seed}`).get();
    return Promise.resolve(Number(row?.n));
  }

  removeSeedRoom(): Promise<void> {
    this.#db.exec("DELETE FROM rooms WHERE slug = 'general'");
    return Promise.resolve();
  }

  insertRows(table: TableInfo, rows: Row[], options: { replace: boolean }): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    const columns = Object.keys(rows[0]);
    for (const column of columns) {
      if (!table.columns.includes(column)) throw unknownColumn(table, column);
    }
    const conflict = onConflict(table, columns, options.replace ? "IS NOT" : null);
    const insert = this.#db.prepare(
      `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(", ")})
       VALUES (${columns.map(() => "?").join(", ")}) ${conflict}`,
    );
    let written = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const row of rows) {
        written += Number(insert.run(...columns.map((c) => row[c])).changes);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    return Promise.resolve(written);
  }

  async writeContent(sha256: string, pieces: AsyncIterable<Uint8Array>): Promise<void> {
    const tempPath = join(await this.#content.dir(), "tmp", crypto.randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    const file = await Deno.open(tempPath, { write: true, createNew: true });
    try {
      for await (const piece of pieces) {
        hash.update(piece);
        size += piece.byteLength;
        for (let written = 0; written < piece.byteLength;) {
          written += await file.write(piece.subarray(written));
        }
      }
      await file.syncData();
    } catch (error) {
      file.close();
      await Deno.remove(tempPath).catch(() => {});
      throw error;
    }
    file.close();
    const actual = hash.digest("hex");
    if (actual !== sha256) {
      await Deno.remove(tempPath).catch(() => {});
      throw new ContentMismatchError(`The bytes of content ${sha256} hash to ${actual}`);
    }
    await Deno.mkdir(dirname(await this.#content.pathOf(sha256)), { recursive: true });
    await this.#content.place({ tempPath, sha256, size });
  }

  continueIds(table: TableInfo, lastId: number): Promise<void> {
    // Only AUTOINCREMENT tables keep a high-water mark; the others continue after their
    // highest id, which the rows brought.
    const autoincrement = this.#db.prepare(
      "SELECT 1 AS yes FROM sqlite_schema WHERE name = ? AND sql LIKE '%AUTOINCREMENT%'",
    ).get(table.name);
    if (!autoincrement || lastId <= 0) return Promise.resolve();
    const updated = this.#db.prepare(
      "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?",
    ).run(lastId, table.name);
    if (Number(updated.changes) === 0) {
      this.#db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)")
        .run(table.name, lastId);
    }
    return Promise.resolve();
  }

  analyze(): Promise<void> {
    optimizeSearchIndex(this.#db);
    this.#db.exec("PRAGMA optimize");
    return Promise.resolve();
  }
}

/** A row from node:sqlite as exported (BigInts, which it returns only when asked, as numbers). */
function sqliteRow(table: TableInfo, row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const column of table.columns) out[column] = portableValue(table, column, row[column]);
  return out;
}

/** SQLite's highest id given for a table: its AUTOINCREMENT mark or its highest id. */
function sqliteLastId(db: DatabaseSync, table: TableInfo): number {
  if (!table.idColumn) return 0;
  const highest = Number(
    db.prepare(
      `SELECT coalesce(max(${quote(table.idColumn)}), 0) AS n FROM ${quote(table.name)}`,
    ).get()?.n,
  );
  const hasSequence = db.prepare(
    "SELECT 1 AS yes FROM sqlite_schema WHERE name = 'sqlite_sequence'",
  ).get();
  const mark = hasSequence
    ? Number(db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(table.name)?.seq ?? 0)
    : 0;
  return Math.max(highest, mark);
}

/** A value as exported: numbers for integers, 0/1 for booleans, text, null. */
function portableValue(table: TableInfo, column: string, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`${table.name}.${column} holds ${value}, too large to export`);
    }
    return Number(value);
  }
  throw new Error(
    `${table.name}.${column} holds a value that cannot be exported (${typeof value})`,
  );
}

/** The error for a column an export has and this database does not. */
function unknownColumn(table: TableInfo, column: string): Error {
  return new Error(
    `The export has a column ${table.name}.${column} that this database does not: ` +
      "import with the Parley version that exported it",
  );
}

/** A table on PostgreSQL with what its columns hold. */
interface PostgresTable extends TableInfo {
  /** Columns holding BIGINT (returned as text by the driver). */
  bigints: Set<string>;
}

/** PostgreSQL: the tables of the connection's schema (its search_path), bytes in blob_chunks. */
class PostgresPortable implements PortableDatabase {
  readonly kind = "postgres";
  #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async schemaVersion(): Promise<number> {
    const [row] = await this.#sql`SELECT version FROM parley_schema`;
    return Number(row?.version ?? 0);
  }

  async tables(): Promise<TableInfo[]> {
    const sql = this.#sql;
    const names = (await sql`SELECT c.relname AS name FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`).map((row) => String(row.name))
      .filter((name) => !STORAGE_TABLES.postgres.includes(name));
    const tables: PostgresTable[] = [];
    for (const name of names) {
      const columns = await sql`SELECT column_name AS name, data_type AS type,
          is_identity = 'YES' AS identity
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ${name}
          AND is_generated = 'NEVER'
        ORDER BY ordinal_position`;
      const key = await sql`SELECT a.attname AS name FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])
        WHERE i.indisprimary AND i.indrelid =
          (SELECT oid FROM pg_class WHERE relname = ${name}
             AND relnamespace = current_schema()::regnamespace)
        ORDER BY array_position(i.indkey::int2[], a.attnum)`;
      const references = await sql`SELECT DISTINCT r.relname AS name FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
        WHERE k.contype = 'f' AND t.relname = ${name}
          AND t.relnamespace = current_schema()::regnamespace`;
      if (key.length === 0) throw new Error(`The table ${name} has no primary key`);
      const identity = columns.find((c) => c.identity);
      tables.push({
        name,
        columns: columns.map((c) => String(c.name)).sort(),
        primaryKey: key.map((c) => String(c.name)),
        references: references.map((r) => String(r.name)).filter((other) => other !== name),
        idColumn: identity ? String(identity.name) : undefined,
        bigints: new Set(columns.filter((c) => c.type === "bigint").map((c) => String(c.name))),
      });
    }
    return orderByReferences(tables);
  }

  read<T>(work: (reader: SnapshotReader) => Promise<T>): Promise<T> {
    return this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", (tx) =>
      work({
        page: async (table, after, limit) => {
          const { after: condition, order } = keyset(table, (i) => `$${i + 1}`);
          const columns = table.columns.map(quote).join(", ");
          const params = after ? table.primaryKey.map((c) => after[c]) : [];
          const where = after ? `WHERE ${condition}` : "";
          const rows = await tx.unsafe(
            `SELECT ${columns} FROM ${quote(table.name)} ${where} ORDER BY ${order}
             LIMIT ${Math.floor(limit)}`,
            params as postgres.ParameterOrJSON<never>[],
          );
          return rows.map((row) => {
            const out: Row = {};
            const bigints = (table as PostgresTable).bigints;
            for (const column of table.columns) {
              const value = row[column];
              // The driver returns BIGINT as text.
              out[column] = portableValue(
                table,
                column,
                bigints?.has(column) && typeof value === "string" ? BigInt(value) : value,
              );
            }
            return out;
          });
        },
        lastId: (table) => postgresLastId(tx, table),
      })) as Promise<T>;
  }

  async *content(sha256: string, size: number, pieceBytes: number): AsyncIterable<Uint8Array> {
    const sql = this.#sql;
    async function* chunks() {
      for (let n = 0; n * CHUNK_BYTES < size; n++) {
        const [row] = await sql`SELECT data FROM blob_chunks WHERE sha256 = ${sha256} AND n = ${n}`;
        if (!row) throw new Error(`The bytes of the stored content ${sha256} are missing`);
        yield row.data as Uint8Array;
      }
    }
    yield* rechunk(chunks(), pieceBytes);
  }

  async countRows(table: TableInfo): Promise<number> {
    const seed = table.name === "rooms"
      ? "WHERE slug <> 'general'"
      : table.name === "blobs"
      ? "WHERE sha256 NOT LIKE 'tmp-%'"
      : "";
    const [row] = await this.#sql.unsafe(
      `SELECT count(*)::bigint AS n FROM ${quote(table.name)} ${seed}`,
    );
    return Number(row.n);
  }

  async removeSeedRoom(): Promise<void> {
    await this.#sql`DELETE FROM rooms WHERE slug = 'general'`;
  }

  async insertRows(table: TableInfo, rows: Row[], options: { replace: boolean }): Promise<number> {
    if (rows.length === 0) return 0;
    const columns = Object.keys(rows[0]);
    for (const column of columns) {
      if (!table.columns.includes(column)) throw unknownColumn(table, column);
    }
    const list = columns.map(quote).join(", ");
    const conflict = onConflict(table, columns, options.replace ? "IS DISTINCT FROM" : null);
    const overriding = table.idColumn ? "OVERRIDING SYSTEM VALUE" : "";
    // One statement per batch: the rows travel as one JSON array, typed by the table's row type.
    const result = await this.#sql.begin((tx) =>
      tx.unsafe(
        `INSERT INTO ${quote(table.name)} (${list}) ${overriding}
         SELECT ${list} FROM jsonb_populate_recordset(NULL::${quote(table.name)}, $1::text::jsonb)
         ${conflict}`,
        [JSON.stringify(rows)],
      )
    );
    return result.count;
  }

  async writeContent(sha256: string, pieces: AsyncIterable<Uint8Array>): Promise<void> {
    // One transaction per content: its chunks are kept only when their hash is right.
    await this.#sql.begin(async (tx) => {
      const hash = createHash("sha256");
      let n = 0;
      for await (const chunk of rechunk(pieces, CHUNK_BYTES)) {
        hash.update(chunk);
        await tx`INSERT INTO blob_chunks (sha256, n, data)
          VALUES (${sha256}, ${n++}, ${
          Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        })
          ON CONFLICT (sha256, n) DO NOTHING`;
      }
      const actual = hash.digest("hex");
      if (actual !== sha256) {
        throw new ContentMismatchError(`The bytes of content ${sha256} hash to ${actual}`);
      }
    });
  }

  async continueIds(table: TableInfo, lastId: number): Promise<void> {
    if (!table.idColumn) return;
    // Never back: the highest of the export's mark, the ids there, and the sequence itself.
    const next = Math.max(lastId, await postgresLastId(this.#sql, table));
    if (next <= 0) return;
    await this.#sql`SELECT setval(pg_get_serial_sequence(${table.name}, ${table.idColumn}),
      ${next}, true)`;
  }

  async analyze(): Promise<void> {
    await this.#sql`ANALYZE`;
  }
}

/** PostgreSQL's highest id given for a table: its sequence's last value or its highest id. */
async function postgresLastId(tx: Querier, table: TableInfo): Promise<number> {
  if (!table.idColumn) return 0;
  const [{ seq }] =
    await tx`SELECT pg_get_serial_sequence(${table.name}, ${table.idColumn}) AS seq`;
  const [mark] = await tx.unsafe(`SELECT last_value, is_called FROM ${seq}`);
  const [highest] = await tx.unsafe(
    `SELECT coalesce(max(${quote(table.idColumn)}), 0) AS n FROM ${quote(table.name)}`,
  );
  return Math.max(mark.is_called ? Number(mark.last_value) : 0, Number(highest.n));
}
