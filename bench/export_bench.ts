// Export/import benchmark: fills SQLite with generated messages, then times `deno task export` and `import` (PostgreSQL and SQLite) and samples their memory.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { SqliteStore } from "../db/sqlite_store.ts";
import { fillSqlite } from "./search_bench.ts";
import { formatTable } from "./report.ts";
import { int, round } from "./stats.ts";

const USAGE = `Usage: deno task bench:export [options]

  --messages N   messages in the exported database (default 1000000)
  --seed N       seed of the generated text (default 1)
  --keep         keep the temporary folder (printed) and the PostgreSQL database

With BENCH_DATABASE_URL or TEST_DATABASE_URL set, the export is also imported into a new
PostgreSQL database (made on that server, dropped afterwards) and exported from it again.
`;

/** One command's figures. */
interface Step {
  step: string;
  seconds: number;
  /** Peak resident memory of the command's process. */
  peakRssBytes: number;
  /** The export's size, for exports. */
  fileBytes?: number;
}

/** The peak resident memory (VmHWM) of a running process, or 0 once it has ended. */
function peakRss(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = status.match(/VmHWM:\s+(\d+) kB/);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs `ops/<script>` as `deno task` does, timing it and sampling its peak memory. */
async function run(
  step: string,
  script: "export.ts" | "import.ts",
  args: string[],
  env: Record<string, string>,
): Promise<Step> {
  const root = new URL("..", import.meta.url).pathname;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      `${root}ops/${script}`,
      ...args,
    ],
    env: { ...env, NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  let peak = 0;
  const sampler = setInterval(() => peak = Math.max(peak, peakRss(child.pid)), 100);
  const status = await child.status;
  clearInterval(sampler);
  if (!status.success) throw new Error(`${step} failed (exit ${status.code})`);
  const seconds = (performance.now() - started) / 1000;
  console.error(`${step}: ${round(seconds)} s, peak RSS ${mib(peak)}`);
  return { step, seconds, peakRssBytes: peak };
}

function mib(bytes: number): string {
  return `${round(bytes / (1 << 20))} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const messages = Number(values.messages);
  const url = Deno.env.get("BENCH_DATABASE_URL") ?? Deno.env.get("TEST_DATABASE_URL");
  const dir = await Deno.makeTempDir({ prefix: "parley-export-bench-" });
  const source = `${dir}/source.db`;
  const steps: Step[] = [];
  const database = `parley_export_bench_${crypto.randomUUID().slice(0, 8)}`;
  const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
  try {
    console.error(`filling ${source} with ${int(messages)} messages`);
    const started = performance.now();
    const db = await fillSqlite(source, { messages, seed: Number(values.seed) });
    // Change numbers as the store gives them: a message's seq is its id here.
    db.exec(`UPDATE messages SET seq = id;
      UPDATE rooms SET last_seq = coalesce((SELECT max(id) FROM messages
        WHERE room_id = rooms.id), 0)`);
    db.close();
    (new SqliteStore(source)).close(); // the remaining migrations (the search index)
    console.error(`filled in ${round((performance.now() - started) / 1000)} s`);

    const sqliteEnv = { SQLITE_PATH: source, PARLEY_FILES_DIR: `${dir}/files` };
    const exported = `${dir}/export.ndjson`;
    steps.push(await run("export from SQLite", "export.ts", [exported], sqliteEnv));
    steps[steps.length - 1].fileBytes = (await Deno.stat(exported)).size;

    if (admin) {
      await admin.unsafe(`CREATE DATABASE ${database}`);
      const target = new URL(url!);
      target.pathname = `/${database}`;
      const pgEnv = { DATABASE_URL: target.href };
      steps.push(await run("import into PostgreSQL", "import.ts", [exported], pgEnv));
      const again = `${dir}/export-pg.ndjson`;
      steps.push(await run("export from PostgreSQL", "export.ts", [again], pgEnv));
      steps[steps.length - 1].fileBytes = (await Deno.stat(again)).size;
    }
    const back = { SQLITE_PATH: `${dir}/back.db`, PARLEY_FILES_DIR: `${dir}/back-files` };
    steps.push(await run("import into SQLite", "import.ts", [exported], back));

    console.log(`\nExport and import of ${int(messages)} messages\n`);
    console.log(formatTable([
      ["step", "seconds", "peak RSS", "file"],
      ...steps.map((s) => [
        s.step,
        `${round(s.seconds)}`,
        mib(s.peakRssBytes),
        s.fileBytes ? mib(s.fileBytes) : "",
      ]),
    ]));
    console.log(JSON.stringify({ messages, steps }));
  } finally {
    if (values.keep) {
      console.error(`kept ${dir}${admin ? ` and the database ${database}` : ""}`);
    } else {
      await Deno.remove(dir, { recursive: true });
      if (admin) await admin.unsafe(`DROP DATABASE IF EXISTS ${database}`);
    }
    await admin?.end();
  }
}

if (import.meta.main) await main();
