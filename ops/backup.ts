// `deno task backup [path]`: an online, consistent backup of a SQLite instance and its uploaded files.
import { backup, DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadConfig, type ParleyConfig } from "../fresh.config.ts";

const USAGE = `Usage: deno task backup [path] [--quick]

Backs up the SQLite database (SQLITE_PATH) while Parley runs, and the uploaded files it refers
to (PARLEY_FILES_DIR), into the folder \`path\` (default backups/parley-<UTC time>/):
parley.db and files/. Restore with \`deno task restore <path>\`.

The copy is checked with PRAGMA integrity_check; --quick runs quick_check instead (about a third
of the time, the CPU taken from a busy server; it does not check that indexes match tables).

Exit status: 0 written; 1 nothing written (see the message); 2 written, but the files folder
lacks contents that the database still refers to.
`;

/** What a backup wrote. */
export interface BackupReport {
  /** The backup's folder. */
  dir: string;
  /** Size of `parley.db` in bytes. */
  databaseBytes: number;
  /** The snapshot's schema version (`PRAGMA user_version`). */
  schemaVersion: number;
  /** Messages in the snapshot, deleted ones left out. */
  messages: number;
  /** Stored contents (files and previews, one per distinct SHA-256) copied into `files/`. */
  files: number;
  /** Their bytes. */
  fileBytes: number;
  /**
   * Contents the snapshot refers to whose bytes were removed after it was taken (their messages
   * were deleted meanwhile): the backup keeps their rows but not their bytes.
   */
  deletedSince: string[];
  /** Contents the live database still refers to but the files folder lacks (damage). */
  missing: string[];
  /** Time the database snapshot took (the one read transaction on the live database), in s. */
  snapshotSeconds: number;
  /** The check the copy passed: `integrity_check`, or `quick_check` when asked. */
  check: "integrity_check" | "quick_check";
  /** Wall-clock time of the whole backup (snapshot, integrity check, files), in seconds. */
  seconds: number;
}

/** A backup that was not started, and why (nothing was written). */
export class BackupRefusedError extends Error {}

/** `backups/parley-<UTC time>` (e.g. `backups/parley-20261125T200448Z`). */
export function defaultBackupPath(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  return join("backups", `parley-${stamp}`);
}

/** Where a content-addressed file lives in a files folder (`<dir>/<sha[0..2]>/<sha>`). */
export function contentPath(dir: string, sha256: string): string {
  return join(dir, sha256.slice(0, 2), sha256);
}

/** Whether a table exists in the database (older schemas have no `blobs`). */
export function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
    undefined;
}

/**
 * The first rows of `PRAGMA integrity_check` (`quick_check` when `quick`: the b-trees only, not
 * whether indexes match their tables; about a third of the time): `["ok"]` when sound.
 */
export function integrityCheck(db: DatabaseSync, quick = false): string[] {
  const pragma = quick ? "quick_check" : "integrity_check";
  return db.prepare(`PRAGMA ${pragma}(20)`).all().map((row) => String(row[pragma]));
}

/** Schema version and live messages of a database. */
export function describeDatabase(db: DatabaseSync): { schemaVersion: number; messages: number } {
  const schemaVersion = Number(db.prepare("PRAGMA user_version").get()?.user_version);
  const messages = hasTable(db, "messages")
    ? Number(db.prepare("SELECT count(*) AS n FROM messages WHERE deleted_at IS NULL").get()?.n)
    : 0;
  return { schemaVersion, messages };
}

/** Whether anything (file, folder, link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Backs up the SQLite database at `sqlitePath` and the contents of `filesDir` it refers to into
 * the folder `target` (`parley.db` and `files/<sha[0..2]>/<sha>`), while Parley keeps running.
 *
 * The database is copied with SQLite's online backup API in one step: one read transaction, so
 * the copy is the database as of one instant, and writers go on meanwhile (WAL). Then the
 * contents that copy records (`blobs`: every file's and preview's bytes) are copied from the live
 * folder. Bytes are placed before their row is committed and unlinked only after their row is
 * deleted, so every content of the snapshot is on disk at the snapshot's instant; one can only
 * go missing when its message is deleted in between, which {@link BackupReport.deletedSince}
 * lists. Uploads under way (`tmp/`) and contents added after the snapshot are not copied.
 *
 * The folder is written as `<target>.partial` and renamed to `target` when complete. Throws
 * {@link BackupRefusedError} when there is no database or `target` is already there.
 */
export async function backupSqlite(
  options: { sqlitePath: string; filesDir: string; target: string; quickCheck?: boolean },
): Promise<BackupReport> {
  const started = performance.now();
  const { sqlitePath, filesDir, target } = options;
  if (!(await exists(sqlitePath))) {
    throw new BackupRefusedError(`There is no database at ${sqlitePath} (SQLITE_PATH).`);
  }
  if (await exists(target)) {
    throw new BackupRefusedError(`${target} already exists; name a new folder.`);
  }
  const partial = `${target}.partial`;
  // Left by a backup that was cut off: ours to replace.
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(partial, "files"), { recursive: true });
  const live = new DatabaseSync(sqlitePath);
  try {
    live.exec("PRAGMA busy_timeout = 10000");
    const databasePath = join(partial, "parley.db");
    // rate -1: every page in one step, under one read lock. Smaller steps would restart from
    // the beginning each time another connection writes, and never finish under steady posts.
    await backup(live, databasePath, { rate: -1 });
    const snapshotSeconds = (performance.now() - started) / 1000;

    const copy = new DatabaseSync(databasePath);
    let described: { schemaVersion: number; messages: number };
    const deletedSince: string[] = [];
    const missing: string[] = [];
    let files = 0;
    let fileBytes = 0;
    try {
      // One self-contained file, whatever journal mode the pages carry.
      copy.exec("PRAGMA journal_mode = DELETE");
      const integrity = integrityCheck(copy, options.quickCheck);
      if (integrity.join() !== "ok") {
        throw new Error(`The copied database fails its integrity check: ${integrity.join("; ")}`);
      }
      described = describeDatabase(copy);
      if (hasTable(copy, "blobs")) {
        const stillRecorded = live.prepare("SELECT 1 AS yes FROM blobs WHERE sha256 = ?");
        const made = new Set<string>();
        for (
          const row of copy.prepare("SELECT sha256, size FROM blobs ORDER BY sha256").iterate()
        ) {
          const sha256 = String(row.sha256);
          const destination = contentPath(join(partial, "files"), sha256);
          const prefix = sha256.slice(0, 2);
          if (!made.has(prefix)) {
            await Deno.mkdir(join(partial, "files", prefix), { recursive: true });
            made.add(prefix);
          }
          let copied = await copyContent(contentPath(filesDir, sha256), destination);
          if (!copied && stillRecorded.get(sha256) !== undefined) {
            // Unlinked and uploaded again in between: the bytes are back, or really lost.
            copied = await copyContent(contentPath(filesDir, sha256), destination);
            if (!copied) missing.push(sha256);
          } else if (!copied) {
            deletedSince.push(sha256);
          }
          if (copied) {
            files++;
            fileBytes += Number(row.size);
          }
        }
      }
    } finally {
      copy.close();
    }
    const databaseBytes = (await Deno.stat(databasePath)).size;
    await Deno.rename(partial, target);
    return {
      dir: target,
      databaseBytes,
      ...described,
      files,
      fileBytes,
      deletedSince,
      missing,
      snapshotSeconds,
      check: options.quickCheck ? "quick_check" : "integrity_check",
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    await Deno.remove(partial, { recursive: true }).catch(() => {});
    throw error;
  } finally {
    live.close();
  }
}

/** Copies one content; false when the source is not there. */
async function copyContent(from: string, to: string): Promise<boolean> {
  try {
    await Deno.copyFile(from, to);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Bytes as B, KiB, MiB or GiB with one decimal. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "1 file", "12 files". */
export function countFiles(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "file" : "files"}`;
}

/** The lines `deno task backup` prints. */
export function describeBackup(report: BackupReport, sqlitePath: string): string {
  return [
    `Backed up ${sqlitePath} to ${report.dir}/ in ${report.seconds.toFixed(1)} s (snapshot ${
      report.snapshotSeconds.toFixed(1)
    } s)`,
    `  parley.db  ${formatBytes(report.databaseBytes)}  (schema ${report.schemaVersion}, ${
      formatCount(report.messages)
    } messages, ${report.check} ok)`,
    `  files/     ${formatBytes(report.fileBytes)}  (${countFiles(report.files)})`,
  ].join("\n");
}

/**
 * The configuration, for a command that works on SQLite only: null (the reason printed) when it
 * is invalid or names PostgreSQL (then `postgresHint` is printed).
 */
export function sqliteConfig(postgresHint: string): ParleyConfig | null {
  let config: ParleyConfig;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return null;
  }
  if (config.databaseUrl) {
    console.error(postgresHint);
    return null;
  }
  return config;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length > 1) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const config = sqliteConfig(
    "DATABASE_URL is set: Parley's data (files included) is in PostgreSQL, which this command " +
      'does not back up. Use pg_dump -Fc; see the README, "Operations: backups".',
  );
  if (!config) return 1;
  const target = positionals[0] ?? defaultBackupPath();
  try {
    const report = await backupSqlite({
      sqlitePath: config.sqlitePath,
      filesDir: config.files.dir,
      target,
      quickCheck: values.quick,
    });
    console.log(describeBackup(report, config.sqlitePath));
    if (report.deletedSince.length > 0) {
      console.log(
        `  ${report.deletedSince.length} file(s) were deleted with their messages during the ` +
          "backup; the backup has their rows, not their bytes (they answer 404 once restored).",
      );
    }
    if (report.missing.length > 0) {
      console.error(
        `The files folder ${config.files.dir} lacks ${report.missing.length} content(s) the ` +
          `database refers to, so the backup lacks them too:\n${
            report.missing.map((sha) => `  ${sha}`).join("\n")
          }`,
      );
      return 2;
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`Backup failed: ${message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
