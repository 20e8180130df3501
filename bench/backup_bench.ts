// Backup benchmark: `deno task backup` on a running server with a large database while clients post, then restore.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { formatTable } from "./report.ts";
import { int, percentiles, round, Samples } from "./stats.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const USAGE = `Usage: deno task bench:backup --db <parley.db> [options]

  --db PATH       a Parley SQLite database to start from (copied first, left unchanged); make
                  one with 1,000,000 messages by
                  deno task bench:search --messages 1000000 --queries 1 --db sqlite --keep
  --files N       files uploaded before the backup (default 100) …
  --file-kib K    … of this many KiB each (default 1024)
  --posters N     clients posting one message after another during the run (default 4)
  --seconds S     posting before the backup and again after it (default 3)
  --quick         back up with --quick (quick_check instead of integrity_check)
  --keep          keep the working folder (printed)
`;

/** The benchmark's options. */
interface Options {
  db: string;
  files: number;
  fileKib: number;
  posters: number;
  seconds: number;
  quick: boolean;
  keep: boolean;
}

/** A running `main.ts`. */
interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts main.ts with `env`; resolves once it listens. */
async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env: { PORT: "0", HOSTNAME: "127.0.0.1", NO_COLOR: "1", DATABASE_URL: "", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  while (!/listening on (http:\/\/[^/]+)\//.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The server exited:\n${out}`);
    out += decoder.decode(value);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    url: /listening on (http:\/\/[^/]+)\//.exec(out)![1],
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function guestCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

async function post(url: string, cookie: string, body: string, attachments: string[] = []) {
  const response = await fetch(`${url}/api/rooms/general/messages`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", origin: url },
    body: JSON.stringify({ body, clientId: crypto.randomUUID(), attachments }),
  });
  await response.body?.cancel();
  if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
}

/** Uploads `count` files of distinct bytes, ten per message, 25 per guest (the upload rate). */
async function uploadFiles(url: string, count: number, kib: number): Promise<void> {
  let cookie = "";
  let pending: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 25 === 0) cookie = await guestCookie(url);
    const bytes = new Uint8Array(kib * 1024);
    crypto.getRandomValues(bytes.subarray(0, Math.min(bytes.length, 65536)));
    bytes.set(new TextEncoder().encode(`file ${i}`));
    const form = new FormData();
    form.append("file", new Blob([bytes]), `file-${i}.bin`);
    const response = await fetch(`${url}/api/rooms/general/files`, {
      method: "POST",
      headers: { cookie, origin: url },
      body: form,
    });
    if (response.status !== 201) throw new Error(`Upload answered ${response.status}`);
    pending.push((await response.json()).id);
    if (pending.length === 10 || i % 25 === 24 || i === count - 1) {
      await post(url, cookie, `files ${i}`, pending);
      pending = [];
    }
  }
}

/** Runs an ops/ script as its task does; returns its output and wall time. */
async function runOps(script: string, args: string[], env: Record<string, string>) {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", `ops/${script}`, ...args],
    cwd: ROOT,
    env: { DATABASE_URL: "", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (output.code !== 0) throw new Error(`${script} exited with ${output.code}:\n${text}`);
  return { seconds, text };
}

/** Bytes of every file under `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) total += await folderBytes(path);
    else total += (await Deno.stat(path)).size;
  }
  return total;
}

function mib(bytes: number): string {
  return `${round(bytes / 1024 / 1024)} MiB`;
}

async function run(options: Options): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "parley-backup-bench-" });
  const live = join(work, "live");
  await Deno.mkdir(live);
  await Deno.copyFile(options.db, join(live, "parley.db"));
  const env = {
    SQLITE_PATH: join(live, "parley.db"),
    PARLEY_FILES_DIR: join(live, "files"),
  };
  const server = await startServer({
    ...env,
    PARLEY_BURST_MESSAGES: "1000000",
    PARLEY_NEW_GUESTS_PER_MINUTE: "100000",
    PARLEY_UPLOAD_MB_PER_DAY: "1000000",
  });
  try {
    console.error(`uploading ${options.files} files of ${options.fileKib} KiB`);
    await uploadFiles(server.url, options.files, options.fileKib);

    // Posters: each posts as soon as its last post is acknowledged; latency by phase.
    const phases = { before: new Samples(), during: new Samples(), after: new Samples() };
    let phase: keyof typeof phases = "before";
    let running = true;
    const posters = Array.from({ length: options.posters }, async (_, p) => {
      const cookie = await guestCookie(server.url);
      for (let n = 0; running; n++) {
        const started = performance.now();
        const at = phase;
        await post(server.url, cookie, `poster ${p} says ${n}`);
        if (phase === at) phases[at].push(performance.now() - started);
      }
    });
    const phaseStarted = { before: performance.now(), during: 0, after: 0 };
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    console.error("backing up");
    phase = "during";
    phaseStarted.during = performance.now();
    const backupDir = join(work, "backup");
    const backup = await runOps(
      "backup.ts",
      [backupDir, ...(options.quick ? ["--quick"] : [])],
      env,
    );
    phase = "after";
    phaseStarted.after = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    running = false;
    await Promise.all(posters);
    const ended = performance.now();
    await server.stop();
    console.error(backup.text.trimEnd());

    console.error("restoring");
    const restoreEnv = {
      SQLITE_PATH: join(work, "restored", "parley.db"),
      PARLEY_FILES_DIR: join(work, "restored", "files"),
    };
    const restore = await runOps("restore.ts", [backupDir], restoreEnv);
    console.error(restore.text.trimEnd());

    const durations = {
      before: phaseStarted.during - phaseStarted.before,
      during: phaseStarted.after - phaseStarted.during,
      after: ended - phaseStarted.after,
    };
    const dbBytes = (await Deno.stat(join(backupDir, "parley.db"))).size;
    const fileBytes = await folderBytes(join(backupDir, "files"));
    const rows = (["before", "during", "after"] as const).map((name) => {
      const stats = percentiles(phases[name].values());
      return [
        name === "during" ? "during the backup" : `${name} it`,
        `${round(durations[name] / 1000)}`,
        int(stats.count / (durations[name] / 1000)),
        `${stats.p50}`,
        `${stats.p99}`,
        `${stats.max}`,
      ];
    });
    console.log(`\nBackup while ${options.posters} clients post\n`);
    console.log(formatTable([["phase", "s", "posts/s", "p50 ms", "p99 ms", "max ms"], ...rows]));
    console.log();
    console.log(formatTable([
      ["backup s", "restore s", "parley.db", "files/"],
      [`${round(backup.seconds)}`, `${round(restore.seconds)}`, mib(dbBytes), mib(fileBytes)],
    ]));
    console.log(JSON.stringify({
      posters: options.posters,
      quick: options.quick,
      files: options.files,
      file_kib: options.fileKib,
      backup_seconds: round(backup.seconds),
      backup_output: backup.text.trim().split("\n"),
      restore_seconds: round(restore.seconds),
      db_bytes: dbBytes,
      file_bytes: fileBytes,
      posts: Object.fromEntries(
        (["before", "during", "after"] as const).map((name) => [name, {
          seconds: round(durations[name] / 1000),
          ...percentiles(phases[name].values()),
        }]),
      ),
    }));
  } finally {
    await server.stop().catch(() => {});
    if (options.keep) console.error(`kept ${work}`);
    else await Deno.remove(work, { recursive: true });
  }
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      db: { type: "string" },
      files: { type: "string", default: "100" },
      "file-kib": { type: "string", default: "1024" },
      posters: { type: "string", default: "4" },
      seconds: { type: "string", default: "3" },
      quick: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values.db) return null;
  return {
    db: values.db,
    files: Number(values.files),
    fileKib: Number(values["file-kib"]),
    posters: Number(values.posters),
    seconds: Number(values.seconds),
    quick: values.quick,
    keep: values.keep,
  };
}

if (import.meta.main) {
  const options = parseOptions();
  if (!options) console.log(USAGE);
  else await run(options);
}
