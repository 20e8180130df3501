// `deno task restore <backup-dir> [--force]`: puts a backup's database and files in place for Parley (SQLite).
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { SQLITE_MIGRATIONS } from "../db/migrations/sqlite.ts";
import {
  contentPath,
  countFiles,
  describeDatabase,
  exists,
  formatBytes,
  formatCount,
  hasTable,
  integrityCheck,
  sqliteConfig,
} from "./backup.ts";

const USAGE = `Usage: deno task restore <backup-dir> [--force]

Restores a folder written by \`deno task backup\` (parley.db and files/) as the database at
SQLITE_PATH and the files folder PARLEY_FILES_DIR, checks the database (PRAGMA
integrity_check) and every file's SHA-256. Stop Parley first.

  --force   replace an existing database (and the files folder's contents); refused while
            a running Parley has the database open

Exit status: 0 restored; 1 nothing changed (see the message); 2 restored, but the backup
lacks some files' bytes (listed).
`;

/** What a restore put in place. */
export interface RestoreReport {
  sqlitePath: string;
  filesDir: string;
  /** Size of the restored database in bytes. */
  databaseBytes: number;
  schemaVersion: number;
  /** Messages, deleted ones left out. */
  messages: number;
  /** Contents (files and previews) put in place, each checked against its SHA-256. */
  files: number;
  fileBytes: number;
  /** Contents the database refers to that the backup lacks or holds damaged (left out). */
  missing: string[];
  /** Whether an existing database was replaced (`force`). */
  replaced: boolean;
  seconds: number;
}

/** A restore that changed nothing, and why. */
export class RestoreRefusedError extends Error {}

/**
 * Whether another connection (a running Parley) has the SQLite database at `path` open: such a
 * connection holds a shared lock on it (WAL), so an exclusive lock cannot be had at once.
 */
export function databaseInUse(path: string): boolean {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch {
    return false;
  }
  try {
    db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("ROLLBACK");
    return false;
  } catch (error) {
    // Locked or busy: someone else has it. Anything else (not a database): nobody uses it.
    return error instanceof Error && /locked|busy/i.test(error.message);
  } finally {
    db.close();
  }
}

/** The SHA-256 (hex) of a file's bytes, read as a stream. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** Removes `path` and whatever SQLite keeps beside it (`-wal`, `-shm`, `-journal`). */
async function removeDatabase(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    await Deno.remove(path + suffix).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/**
 * Restores the backup folder `from` (`parley.db`, `files/`) as the database `sqlitePath` and the
 * files folder `filesDir`. The database is copied next to its place, checked (`PRAGMA
 * integrity_check`, schema not newer than this Parley) and renamed into place last; each content
 * the database records is copied into the files folder and its SHA-256 checked.
 *
 * Throws {@link RestoreRefusedError}, having changed nothing, when `from` holds no database or a
 * damaged one, or a database is at `sqlitePath` and `force` is not set, or it is in use. With
 * `force`, the database there is replaced and the files folder keeps only the backup's contents.
 */
export async function restoreSqlite(
  options: { from: string; sqlitePath: string; filesDir: string; force?: boolean },
): Promise<RestoreReport> {
  const started = performance.now();
  const { from, sqlitePath, filesDir } = options;
  const source = join(from, "parley.db");
  if (!(await exists(source))) {
    throw new RestoreRefusedError(`${from} is not a Parley backup: it has no parley.db.`);
  }
  const present = await exists(sqlitePath) || await exists(`${sqlitePath}-wal`);
  if (present && !options.force) {
    throw new RestoreRefusedError(
      `A database is already at ${sqlitePath} (SQLITE_PATH). To replace it with the backup, ` +
        "stop Parley and run the restore again with --force; its data will be lost.",
    );
  }
  if (present && databaseInUse(sqlitePath)) {
    throw new RestoreRefusedError(
      `The database at ${sqlitePath} is in use (a Parley is running on it). Stop it first.`,
    );
  }

  await Deno.mkdir(dirname(sqlitePath) || ".", { recursive: true });
  const staging = `${sqlitePath}.restoring`;
  await removeDatabase(staging);
  await Deno.copyFile(source, staging);
  const db = new DatabaseSync(staging);
  let described: { schemaVersion: number; messages: number };
  try {
    db.exec("PRAGMA journal_mode = DELETE");
    const integrity = integrityCheck(db);
    if (integrity.join() !== "ok") {
      throw new RestoreRefusedError(
        `The backup's database is damaged (PRAGMA integrity_check: ${integrity.join("; ")}).`,
      );
    }
    described = describeDatabase(db);
    if (described.schemaVersion > SQLITE_MIGRATIONS.length) {
      throw new RestoreRefusedError(
        `The backup is at schema version ${described.schemaVersion}, newer than this Parley ` +
          `knows (${SQLITE_MIGRATIONS.length}); restore it with the Parley that made it.`,
      );
    }
  } catch (error) {
    db.close();
    await removeDatabase(staging);
    throw error;
  }

  let files = 0;
  let fileBytes = 0;
  const missing: string[] = [];
  try {
    if (present) {
      await removeDatabase(sqlitePath);
      await removeOtherContents(filesDir, db);
    }
    const incoming = join(filesDir, "tmp");
    await Deno.mkdir(incoming, { recursive: true });
    if (hasTable(db, "blobs")) {
      for (const row of db.prepare("SELECT sha256, size FROM blobs ORDER BY sha256").iterate()) {
        const sha256 = String(row.sha256);
        const size = Number(row.size);
        const temp = join(incoming, `restore-${crypto.randomUUID()}`);
        try {
          await Deno.copyFile(contentPath(join(from, "files"), sha256), temp);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
          missing.push(sha256);
          continue;
        }
        if ((await Deno.stat(temp)).size !== size || await sha256Of(temp) !== sha256) {
          await Deno.remove(temp);
          missing.push(sha256);
          continue;
        }
        await Deno.mkdir(join(filesDir, sha256.slice(0, 2)), { recursive: true });
        await Deno.rename(temp, contentPath(filesDir, sha256));
        files++;
        fileBytes += size;
      }
    }
  } finally {
    db.close();
  }
  await Deno.rename(staging, sqlitePath);
  return {
    sqlitePath,
    filesDir,
    databaseBytes: (await Deno.stat(sqlitePath)).size,
    ...described,
    files,
    fileBytes,
    missing,
    replaced: present,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Empties the files folder of what the restored database does not record: contents of the
 * replaced instance, and its unfinished uploads (`tmp/`).
 */
async function removeOtherContents(filesDir: string, restored: DatabaseSync): Promise<void> {
  if (!(await exists(filesDir))) return;
  const recorded = hasTable(restored, "blobs")
    ? restored.prepare("SELECT 1 AS yes FROM blobs WHERE sha256 = ?")
    : undefined;
  for await (const entry of Deno.readDir(filesDir)) {
    const path = join(filesDir, entry.name);
    if (entry.name === "tmp" && entry.isDirectory) {
      await Deno.remove(path, { recursive: true });
    } else if (/^[0-9a-f]{2}$/.test(entry.name) && entry.isDirectory) {
      for await (const content of Deno.readDir(path)) {
        if (recorded?.get(content.name) === undefined) await Deno.remove(join(path, content.name));
      }
    }
  }
}

/** The lines `deno task restore` prints. */
export function describeRestore(report: RestoreReport, from: string): string {
  return [
    `Restored ${from} to ${report.sqlitePath}${
      report.replaced ? " (replacing the database there)" : ""
    } in ${report.seconds.toFixed(1)} s`,
    `  database   ${formatBytes(report.databaseBytes)}  (schema ${report.schemaVersion}, ${
      formatCount(report.messages)
    } messages, integrity_check ok)`,
    `  files      ${formatBytes(report.fileBytes)}  (${
      countFiles(report.files)
    } in ${report.filesDir}, SHA-256 checked)`,
  ].join("\n");
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const config = sqliteConfig(
    "DATABASE_URL is set: this command restores SQLite backups. For PostgreSQL use " +
      'pg_restore; see the README, "Operations: backups".',
  );
  if (!config) return 1;
  const from = positionals[0].replace(/\/+$/, "") || "/";
  try {
    const report = await restoreSqlite({
      from,
      sqlitePath: config.sqlitePath,
      filesDir: config.files.dir,
      force: values.force,
    });
    console.log(describeRestore(report, from));
    if (report.missing.length > 0) {
      console.error(
        `The backup lacks (or holds damaged) ${report.missing.length} content(s) the database ` +
          `refers to; those files answer 404:\n${
            report.missing.map((sha) => `  ${sha}`).join("\n")
          }`,
      );
      return 2;
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      error instanceof RestoreRefusedError ? message : `Restore failed: ${message}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
