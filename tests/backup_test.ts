// Backup and restore (SQLite): a backup taken while messages stream in, restored elsewhere; refusals.
import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "../db/sqlite_store.ts";
import { contentPath } from "../ops/backup.ts";
import { createTestApp, newGuest, postMessage, startTestServer } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** What a task printed and how it ended. */
interface TaskRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno task backup|restore` as its task does (same permissions), with `env`. */
async function runTask(
  task: "backup" | "restore",
  args: string[],
  env: Record<string, string>,
): Promise<TaskRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", `ops/${task}.ts`, ...args],
    cwd: ROOT,
    env: { DATABASE_URL: "", PARLEY_FILES_DIR: "", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A message the server acknowledged (201), and when. */
interface Acknowledged {
  id: number;
  body: string;
  at: number;
}

async function guestCookie(base: string): Promise<string> {
  const response = await fetch(`${base}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

async function postOver(
  base: string,
  cookie: string,
  body: string,
  attachments: string[] = [],
): Promise<Response> {
  return await fetch(`${base}/api/rooms/general/messages`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ body, clientId: crypto.randomUUID(), attachments }),
  });
}

Deno.test("backup: taken while messages stream in, it restores every message acknowledged before it started, and the files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  const live = join(dir, "live", "parley.db");
  const server = await startTestServer({
    sqlitePath: live,
    env: { PARLEY_BURST_MESSAGES: "1000000" },
  });
  try {
    const cookie = await guestCookie(server.url);
    // 300 KiB of varied bytes, attached to a message.
    const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
    const form = new FormData();
    form.append("file", new Blob([bytes]), "minutes.bin");
    const uploaded = await fetch(`${server.url}/api/rooms/general/files`, {
      method: "POST",
      headers: { cookie },
      body: form,
    });
    assert.equal(uploaded.status, 201);
    const file = await uploaded.json();
    const withFile = await postOver(server.url, cookie, "minutes attached", [file.id]);
    assert.equal(withFile.status, 201);
    const acknowledged: Acknowledged[] = [
      { id: (await withFile.json()).id, body: "minutes attached", at: performance.now() },
    ];

    // Three posters, each sending its next message as soon as the last is acknowledged.
    let streaming = true;
    const failures: number[] = [];
    const posters = [0, 1, 2].map(async (poster) => {
      for (let n = 0; streaming; n++) {
        const body = `poster ${poster} message ${n}`;
        const response = await postOver(server.url, cookie, body);
        if (response.status !== 201) {
          failures.push(response.status);
          await response.body?.cancel();
          continue;
        }
        const { id } = await response.json();
        acknowledged.push({ id, body, at: performance.now() });
      }
    });
    while (acknowledged.length < 150) await new Promise((resolve) => setTimeout(resolve, 10));

    const backupDir = join(dir, "backup");
    const backupStarted = performance.now();
    const backup = await runTask("backup", [backupDir], {
      SQLITE_PATH: live,
      PARLEY_FILES_DIR: join(dir, "live", "files"),
    });
    const backupEnded = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    streaming = false;
    await Promise.all(posters);
    await server.stop();

    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /parley\.db\s+[\d.]+ (KiB|MiB)/);
    assert.match(backup.stdout, /files\/\s+300\.0 KiB\s+\(1 file\)/);
    assert.deepEqual(failures, []);
    const before = acknowledged.filter((m) => m.at < backupStarted);
    const during = acknowledged.filter((m) => m.at >= backupStarted && m.at < backupEnded);
    assert.ok(before.length >= 150);
    // Posts went on while the backup ran (it does not stop the writers).
    assert.ok(during.length > 0, "no message was acknowledged during the backup");

    const restoredDb = join(dir, "restored", "parley.db");
    const restoredFiles = join(dir, "restored", "files");
    const restore = await runTask("restore", [backupDir], {
      SQLITE_PATH: restoredDb,
      PARLEY_FILES_DIR: restoredFiles,
    });
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /integrity_check ok/);

    const store = new SqliteStore(restoredDb, { filesDir: restoredFiles });
    try {
      assert.equal(store.db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
      const general = (await store.getRoom("general"))!;
      for (const message of before) {
        const found = await store.getMessage(general, message.id);
        assert.equal(found?.body, message.body, `message ${message.id} is missing`);
      }
      const stored = (await store.getFile(file.id))!;
      assert.equal(stored.size, bytes.length);
      const content = await store.readContent(stored.sha256);
      assert.ok(content, "the file's bytes were not restored");
      assert.deepEqual(new Uint8Array(await new Response(content).arrayBuffer()), bytes);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restore: refuses to overwrite a database without --force, and while it is in use", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-restore-" });
  try {
    const original = join(dir, "original", "parley.db");
    const app = await createTestApp({ sqlitePath: original });
    await postMessage(app, await newGuest(app), "from the backup");
    await app.close();
    const backupDir = join(dir, "backup");
    const backup = await runTask("backup", [backupDir, "--quick"], {
      SQLITE_PATH: original,
      PARLEY_FILES_DIR: join(dir, "original", "files"),
    });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /quick_check ok/);
    // The same folder again: refused, nothing written.
    const again = await runTask("backup", [backupDir], { SQLITE_PATH: original });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);

    const target = join(dir, "target", "parley.db");
    const targetEnv = { SQLITE_PATH: target, PARLEY_FILES_DIR: join(dir, "target", "files") };
    const existing = await createTestApp({ sqlitePath: target });
    await postMessage(existing, await newGuest(existing), "already here");
    const bodies = async () => {
      const store = new SqliteStore(target);
      try {
        return store.db.prepare("SELECT body FROM messages ORDER BY id").all().map((r) => r.body);
      } finally {
        await store.close();
      }
    };

    // In use by a running app: refused even with --force.
    const inUse = await runTask("restore", [backupDir, "--force"], targetEnv);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /in use/);
    await existing.close();

    const refused = await runTask("restore", [backupDir], targetEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already at .*--force/s);
    assert.deepEqual(await bodies(), ["already here"]);

    const forced = await runTask("restore", [backupDir, "--force"], targetEnv);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /replacing the database there/);
    assert.deepEqual(await bodies(), ["from the backup"]);

    const notABackup = await runTask("restore", [join(dir, "elsewhere")], targetEnv);
    assert.equal(notABackup.code, 1);
    assert.match(notABackup.stderr, /not a Parley backup/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backup: bytes missing from the files folder are reported (exit 2), and restore says so too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-backup-" });
  try {
    const live = join(dir, "live", "parley.db");
    const filesDir = join(dir, "live", "files");
    const app = await createTestApp({ sqlitePath: live });
    const guest = await newGuest(app);
    const form = new FormData();
    form.append("file", new Blob([new TextEncoder().encode("agenda")]), "agenda.txt");
    const uploaded = await app.request("/api/rooms/general/files", {
      method: "POST",
      body: form,
      headers: { cookie: guest.cookie, origin: "http://localhost" },
    });
    assert.equal(uploaded.status, 201);
    const { id } = await uploaded.json();
    const sha256 = (await app.store.getFile(id))!.sha256;
    await app.close();
    await Deno.remove(contentPath(filesDir, sha256));

    const backupDir = join(dir, "backup");
    const backup = await runTask("backup", [backupDir], {
      SQLITE_PATH: live,
      PARLEY_FILES_DIR: filesDir,
    });
    assert.equal(backup.code, 2);
    assert.ok(backup.stderr.includes(sha256), backup.stderr);
    assert.match(backup.stdout, /\(0 files\)/);

    const restore = await runTask("restore", [backupDir], {
      SQLITE_PATH: join(dir, "restored", "parley.db"),
      PARLEY_FILES_DIR: join(dir, "restored", "files"),
    });
    assert.equal(restore.code, 2);
    assert.ok(restore.stderr.includes(sha256), restore.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backup: refused when DATABASE_URL is set, pointing to pg_dump", async () => {
  const run = await runTask("backup", [], {
    DATABASE_URL: "postgres://parley@127.0.0.1:1/parley",
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /pg_dump/);
  const restore = await runTask("restore", ["somewhere"], {
    DATABASE_URL: "postgres://parley@127.0.0.1:1/parley",
  });
  assert.equal(restore.code, 1);
  assert.match(restore.stderr, /pg_restore/);
});
