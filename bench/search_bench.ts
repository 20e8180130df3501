// Search benchmark: fills each store with messages, then times Store.searchMessages and sizes the index.
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { SQLITE_MIGRATIONS } from "../db/migrations/sqlite.ts";
import { POSTGRES_MIGRATIONS } from "../db/migrations/postgres.ts";
import { POSTGRES_SEARCH_MIGRATION, SQLITE_SEARCH_MIGRATION } from "../db/migrations/search.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import type { Store } from "../db/store.ts";
import { formatTable } from "./report.ts";
import { int, percentiles, round, Samples } from "./stats.ts";

const USAGE = `Usage: deno task bench:search [options]

  --messages N   messages stored before searching (default 1000000)
  --queries N    searches of each kind (default 200)
  --db D         sqlite, postgres or both (default: both when BENCH_DATABASE_URL or
                 TEST_DATABASE_URL is set, else sqlite)
  --seed N       seed of the generated text (default 1)
  --keep         keep the SQLite file and the PostgreSQL schema (printed) to look into them
`;

/** The benchmark's options. */
interface Options {
  messages: number;
  queries: number;
  stores: ("sqlite" | "postgres")[];
  seed: number;
  keep: boolean;
}

/** Rooms of the generated chat: the first is `general`; the last four are private. */
const ROOMS = 12;
const PRIVATE_ROOMS = 4;
const AUTHORS = 50;
/** Share of messages written in Japanese. */
const JAPANESE_SHARE = 0.05;
/** Messages per INSERT batch. */
const BATCH = 20_000;

// The head of the vocabulary: common chat words, most frequent first (accented ones included).
const COMMON = `the to and a of i you it is in that for we on this be have with not are
  do at but so can if just will what me my all was get about they there up out it's one
  know like now think your time when don't go how see from did make would an or no yes need
  today tomorrow meeting deploy build release fix bug issue test tests review merge branch
  server database query error problem update change team project please thanks thank ok
  sure great good work working done check look let's call later morning afternoon week
  next last new old users user customer support ticket email message channel room chat
  file files upload link docs document plan design feature features code api client data
  backup restore migration schema index search cache memory disk cpu latency slow fast
  production staging config settings password login account security report results
  numbers budget sales marketing launch demo slides notes agenda lunch coffee café
  résumé naïve déjà vu über façade jalapeño crème brûlée piñata fiancée coördinate
  monday tuesday wednesday thursday friday weekend holiday vacation office remote
  home train flight hotel trip conference talk question answer idea ideas decision
  approve approved rejected pending blocked waiting ready shipped rollback hotfix
  incident outage alert monitoring dashboard metrics graph logs trace profile benchmark`
  .split(/\s+/).filter(Boolean);

const SYLLABLES = ("ka ri to mo ne sa lu vi pe do ran tel mar gon bri sta plo que zen fa " +
  "li ver tor nal sen dra mi co bel pra tan gri so lo ex in con pro de re un ab").split(" ");

const JAPANESE_NOUNS = `会議 資料 確認 予定 明日 今日 来週 報告 問題 対応 修正 開発 設計 仕様 担当
  顧客 連絡 共有 変更 作業 環境 本番 障害 調査 検討 提案 見積 契約 請求 品質 会議室 議事録
  打ち合わせ 進捗 締め切り 新機能 不具合 再起動 本番環境 検証環境 データベース サーバー リリース
  デプロイ テスト レビュー プロジェクト スケジュール メール チーム ユーザー ログイン パスワード
  バックアップ ネットワーク セキュリティ アップデート ドキュメント 東京 大阪 出張 休暇 昼食 研修
  面接 採用 予算 売上 目標 戦略 市場 競合 分析 結果 課題 改善 完了 開始 延期 中止`
  .split(/\s+/).filter(Boolean);
const PARTICLES = ["の", "を", "は", "が", "で", "に", "と", "も"];
const ENDINGS = [
  "します。",
  "しました。",
  "ですか？",
  "です。",
  "してください。",
  "お願いします。",
];

/** A seeded pseudo-random generator (mulberry32): the same text on every run and store. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks ranks 0…n-1 with Zipf frequencies (rank r weighs 1/(r+1)^s). */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cumulative[r] = sum += 1 / (r + 1) ** s;
  return () => {
    const x = rand() * sum;
    let [lo, hi] = [0, n - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The generated chat: vocabulary, message bodies and search words, all from one seed. */
class Corpus {
  readonly vocabulary: string[];
  #rand: () => number;
  #word: () => number;
  #noun: () => number;

  constructor(seed: number) {
    this.#rand = random(seed);
    const words = new Set(COMMON);
    // The long tail: 30,000 made-up words of two to four syllables.
    const syllable = () => SYLLABLES[Math.floor(this.#rand() * SYLLABLES.length)];
    while (words.size < COMMON.length + 30_000) {
      const count = 2 + Math.floor(this.#rand() * 3);
      words.add(Array.from({ length: count }, syllable).join(""));
    }
    this.vocabulary = [...words];
    this.#word = zipf(this.vocabulary.length, 1.05, this.#rand);
    this.#noun = zipf(JAPANESE_NOUNS.length, 1, this.#rand);
  }

  /** One message body: 3 to 25 English words with some punctuation, or a Japanese sentence. */
  body(): string {
    if (this.#rand() < JAPANESE_SHARE) {
      const parts: string[] = [];
      const nouns = 2 + Math.floor(this.#rand() * 4);
      for (let i = 0; i < nouns; i++) {
        parts.push(JAPANESE_NOUNS[this.#noun()]);
        if (i < nouns - 1) parts.push(PARTICLES[Math.floor(this.#rand() * PARTICLES.length)]);
      }
      return parts.join("") + ENDINGS[Math.floor(this.#rand() * ENDINGS.length)];
    }
    const length = 3 + Math.floor(this.#rand() ** 2 * 23);
    const words: string[] = [];
    for (let i = 0; i < length; i++) {
      let word = this.vocabulary[this.#word()];
      if (i === 0) word = word[0].toUpperCase() + word.slice(1);
      if (i < length - 1 && this.#rand() < 0.06) word += ",";
      words.push(word);
    }
    return words.join(" ") + (this.#rand() < 0.2 ? "?" : ".");
  }

  /** The room (0-based) of the next message: a third in `general`, the rest spread. */
  room(): number {
    return this.#rand() < 0.3 ? 0 : 1 + Math.floor(this.#rand() * (ROOMS - 1));
  }

  /** The author (0-based) of the next message. */
  author(): number {
    return Math.floor(this.#rand() * AUTHORS);
  }

  /**
   * A search word: half the time drawn with the text's own frequencies (common words, the
   * hard case: many matches), half the time any word of the vocabulary alike (mostly rare).
   */
  searchWord(): string {
    const rank = this.#rand() < 0.5
      ? this.#word()
      : Math.floor(this.#rand() * this.vocabulary.length);
    return this.vocabulary[rank].replace(/[^\p{L}\p{N}']/gu, "");
  }

  /** A Japanese search word with the text's frequencies: two characters, or three and more. */
  japaneseWord(short: boolean): string {
    for (;;) {
      const noun = JAPANESE_NOUNS[this.#noun()];
      if ((noun.length <= 2) === short) return noun;
    }
  }
}

/** One kind of search, made `count` times. */
interface QueryKind {
  name: string;
  make(corpus: Corpus): string[];
}

const QUERY_KINDS: QueryKind[] = [
  { name: "1 word", make: (c) => [c.searchWord()] },
  { name: "2 words", make: (c) => [c.searchWord(), c.searchWord()] },
  { name: "3 words", make: (c) => [c.searchWord(), c.searchWord(), c.searchWord()] },
  { name: "Japanese, 2 characters", make: (c) => [c.japaneseWord(true)] },
  { name: "Japanese, 3+ characters", make: (c) => [c.japaneseWord(false)] },
];

/** The latency of one kind of search on one store. */
interface KindResult {
  kind: string;
  p50: number;
  p95: number;
  max: number;
  /** Mean number of messages found (at most the limit, 20). */
  found: number;
}

/** What one store measured. */
interface StoreResult {
  store: string;
  fillSeconds: number;
  indexSeconds: number;
  bytesWithout: number;
  bytesWith: number;
  indexParts: [string, number][];
  kinds: KindResult[];
}

/** The member searching: in every public room and in two of the four private ones. */
const READER = 1;

/** Times `queries` searches of each kind through `store` (limit 20) after a warm-up. */
async function measure(store: Store, options: Options): Promise<KindResult[]> {
  const results: KindResult[] = [];
  for (const kind of QUERY_KINDS) {
    const corpus = new Corpus(options.seed + 1000);
    const queries = Array.from({ length: options.queries }, () => kind.make(corpus));
    for (const words of queries.slice(0, 10)) {
      await store.searchMessages({ readerId: READER, words, phrases: [], limit: 20 });
    }
    const samples = new Samples(queries.length);
    let found = 0;
    for (const words of queries) {
      const started = performance.now();
      const messages = await store.searchMessages({
        readerId: READER,
        words,
        phrases: [],
        limit: 20,
      });
      samples.push(performance.now() - started);
      found += messages.length;
    }
    const stats = percentiles(samples.values());
    results.push({
      kind: kind.name,
      p50: stats.p50,
      p95: stats.p95,
      max: stats.max,
      found: round(found / queries.length),
    });
    console.error(`  ${kind.name}: p50 ${stats.p50} ms, p95 ${stats.p95} ms`);
  }
  return results;
}

/** Calls `add(room, author, body)` for every generated message, in batches of {@link BATCH}. */
async function generate(
  options: Pick<Options, "messages" | "seed">,
  batch: (rooms: number[], authors: number[], bodies: string[]) => Promise<void> | void,
): Promise<void> {
  const corpus = new Corpus(options.seed);
  for (let done = 0; done < options.messages; done += BATCH) {
    const n = Math.min(BATCH, options.messages - done);
    const rooms: number[] = [];
    const authors: number[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < n; i++) {
      rooms.push(corpus.room());
      authors.push(corpus.author());
      bodies.push(corpus.body());
    }
    await batch(rooms, authors, bodies);
    if ((done / BATCH) % 10 === 0) {
      console.error(`  ${int(done + n)} messages`);
    }
  }
}

/**
 * Makes the SQLite database `path` with the schema before search (migrations 1–6), the
 * generated members, rooms and memberships, and `messages` generated messages inserted
 * directly in batches (fast: no search index yet; opening it with SqliteStore applies
 * migrations 7 and later, which index them). Returns the open database.
 */
export async function fillSqlite(
  path: string,
  options: Pick<Options, "messages" | "seed">,
): Promise<DatabaseSync> {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON");
  const before = SQLITE_MIGRATIONS.indexOf(SQLITE_SEARCH_MIGRATION);
  db.exec("BEGIN");
  for (const migration of SQLITE_MIGRATIONS.slice(0, before)) db.exec(migration);
  db.exec(`PRAGMA user_version = ${before}`);
  const now = Date.now();
  for (let i = 1; i <= AUTHORS; i++) {
    db.prepare("INSERT INTO members (id, name, created_at) VALUES (?, ?, ?)")
      .run(i, `Member ${i}`, now);
  }
  for (let r = 1; r < ROOMS; r++) {
    const kind = r >= ROOMS - PRIVATE_ROOMS ? "private" : "public";
    db.prepare(
      "INSERT INTO rooms (slug, name, kind, created_by, created_at) VALUES (?, ?, ?, 1, ?)",
    ).run(`room-${r}`, `room ${r}`, kind, now);
  }
  // The reader is in two private rooms of four; the messages' authors are in all of them.
  const rooms = db.prepare("SELECT id, kind FROM rooms ORDER BY id").all()
    .map((row) => Number(row.id));
  for (const room of rooms.slice(-PRIVATE_ROOMS)) {
    for (let m = 1; m <= AUTHORS; m++) {
      if (m === READER && room > rooms[rooms.length - 3]) continue;
      db.prepare("INSERT INTO room_members (room_id, member_id, joined_at) VALUES (?, ?, ?)")
        .run(room, m, now);
    }
  }
  db.exec("COMMIT");
  const insert = db.prepare(
    `INSERT INTO messages (room_id, author_id, body, client_id, created_at, seq)
     VALUES (?, ?, ?, ?, ?, 0)`,
  );
  let n = 0;
  await generate(options, (roomIndexes, authors, bodies) => {
    db.exec("BEGIN");
    for (let i = 0; i < bodies.length; i++) {
      n++;
      insert.run(rooms[roomIndexes[i]], authors[i] + 1, bodies[i], `b${n}`, now);
    }
    db.exec("COMMIT");
  });
  return db;
}

/** SQLite bytes in use (pages minus free pages), after a checkpoint. */
function sqliteBytes(db: DatabaseSync): number {
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const pages = Number(db.prepare("PRAGMA page_count").get()?.page_count);
  const free = Number(db.prepare("PRAGMA freelist_count").get()?.freelist_count);
  const size = Number(db.prepare("PRAGMA page_size").get()?.page_size);
  return (pages - free) * size;
}

/**
 * SQLite: the schema before search (migrations 1–6) and the messages inserted directly; then
 * the store opens the file and migration 7 (and the later ones) index them (timed); then the searches.
 */
async function benchSqlite(options: Options): Promise<StoreResult> {
  const dir = await Deno.makeTempDir({ prefix: "parley-search-bench-" });
  const path = `${dir}/parley.db`;
  try {
    console.error(`sqlite: filling ${path}`);
    const started = performance.now();
    const db = await fillSqlite(path, options);
    const fillSeconds = (performance.now() - started) / 1000;
    const bytesWithout = sqliteBytes(db);
    db.close();

    console.error("sqlite: migrations 7 and later (indexing)");
    const indexing = performance.now();
    const store = new SqliteStore(path);
    const indexSeconds = (performance.now() - indexing) / 1000;
    try {
      const bytesWith = sqliteBytes(store.db);
      const indexParts = store.db.prepare(
        `SELECT CASE WHEN name LIKE 'message_words%' THEN 'message_words (FTS5 unicode61)'
                     WHEN name LIKE 'message_text%' THEN 'message_text (FTS5 trigram)'
                     ELSE name END AS part, sum(pgsize) AS bytes
         FROM dbstat WHERE name LIKE 'message_words%' OR name LIKE 'message_text%'
           OR name = 'messages_spaceless'
         GROUP BY part ORDER BY part`,
      ).all().map((row): [string, number] => [String(row.part), Number(row.bytes)]);
      console.error("sqlite: searching");
      const kinds = await measure(store, options);
      return {
        store: "sqlite",
        fillSeconds,
        indexSeconds,
        bytesWithout,
        bytesWith,
        indexParts,
        kinds,
      };
    } finally {
      await store.close();
    }
  } finally {
    if (options.keep) console.error(`sqlite: kept ${path}`);
    else await Deno.remove(dir, { recursive: true });
  }
}

/**
 * PostgreSQL, in a schema of its own: migrations 1–6 and the messages (batches of unnest
 * arrays), then the store opens and migration 7 (and the later ones) build the indexes (timed), then ANALYZE and
 * the searches.
 */
async function benchPostgres(url: string, options: Options): Promise<StoreResult> {
  const schema = `search_bench_${Date.now()}`;
  const admin = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  try {
    console.error(`postgres: filling schema ${schema}`);
    const started = performance.now();
    const before = POSTGRES_MIGRATIONS.indexOf(POSTGRES_SEARCH_MIGRATION);
    await admin.begin(async (tx) => {
      await tx`CREATE SCHEMA ${tx(schema)}`;
      for (const migration of POSTGRES_MIGRATIONS.slice(0, before)) await tx.unsafe(migration);
      await tx`CREATE TABLE parley_schema (version INTEGER NOT NULL)`;
      await tx`INSERT INTO parley_schema (version) VALUES (${before})`;
      const now = Date.now();
      await tx`INSERT INTO members (name, created_at)
        SELECT 'Member ' || g, ${now} FROM generate_series(1, ${AUTHORS}) AS g`;
      for (let r = 1; r < ROOMS; r++) {
        const kind = r >= ROOMS - PRIVATE_ROOMS ? "private" : "public";
        await tx`INSERT INTO rooms (slug, name, kind, created_by, created_at)
          VALUES (${`room-${r}`}, ${`room ${r}`}, ${kind}, 1, ${now})`;
      }
    });
    const rooms = (await admin`SELECT id FROM rooms ORDER BY id`).map((row) => Number(row.id));
    for (const room of rooms.slice(-PRIVATE_ROOMS)) {
      await admin`INSERT INTO room_members (room_id, member_id, joined_at)
        SELECT ${room}, m.id, 0 FROM members m
        WHERE m.id <> ${READER} OR ${room} <= ${rooms[rooms.length - 3]}`;
    }
    let n = 0;
    await generate(options, async (roomIndexes, authors, bodies) => {
      const roomIds = roomIndexes.map((i) => rooms[i]);
      const clientIds = bodies.map(() => `b${++n}`);
      await admin`INSERT INTO messages (room_id, author_id, body, client_id, created_at)
        SELECT r, a, b, c, 0 FROM unnest(${roomIds}::bigint[], ${
        authors.map((a) => a + 1)
      }::bigint[], ${bodies}::text[], ${clientIds}::text[]) AS x(r, a, b, c)`;
    });
    await admin`VACUUM ANALYZE messages`.catch(() => admin`ANALYZE messages`);
    const fillSeconds = (performance.now() - started) / 1000;
    const [sized] = await admin`SELECT pg_total_relation_size('messages') AS bytes`;
    const bytesWithout = Number(sized.bytes);

    console.error("postgres: migrations 7 and later (indexing)");
    const { PostgresStore } = await import("../db/postgres_store.ts");
    const indexing = performance.now();
    const store = await PostgresStore.open(url, { schema, max: 2 });
    const indexSeconds = (performance.now() - indexing) / 1000;
    try {
      await admin`ANALYZE messages`;
      const [total] = await admin`SELECT pg_total_relation_size('messages') AS bytes`;
      const parts = await admin`
        SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema}
          AND c.relname IN ('messages_search_words', 'messages_search_text', 'messages_spaceless')
        ORDER BY c.relname`;
      const [column] = await admin`
        SELECT coalesce(sum(pg_column_size(search_words)), 0) AS bytes FROM messages`;
      console.error("postgres: searching");
      const kinds = await measure(store, options);
      return {
        store: "postgres",
        fillSeconds,
        indexSeconds,
        bytesWithout,
        bytesWith: Number(total.bytes),
        indexParts: [
          ...parts.map((row): [string, number] => [String(row.name), Number(row.bytes)]),
          ["search_words column", Number(column.bytes)],
        ],
        kinds,
      };
    } finally {
      await store.close();
    }
  } finally {
    if (options.keep) console.error(`postgres: kept schema ${schema}`);
    else await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
    await admin.end();
  }
}

/** Bytes as MiB with one decimal. */
function mib(bytes: number): string {
  return `${round(bytes / 1024 / 1024)} MiB`;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "1000000" },
      queries: { type: "string", default: "200" },
      db: { type: "string" },
      seed: { type: "string", default: "1" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  const url = Deno.env.get("BENCH_DATABASE_URL") ?? Deno.env.get("TEST_DATABASE_URL");
  const db = values.db ?? (url ? "both" : "sqlite");
  if (!["sqlite", "postgres", "both"].includes(db)) throw new Error(`Unknown --db ${db}`);
  if (db !== "sqlite" && !url) {
    throw new Error("--db postgres needs BENCH_DATABASE_URL or TEST_DATABASE_URL");
  }
  return {
    messages: Number(values.messages),
    queries: Number(values.queries),
    stores: db === "both" ? ["sqlite", "postgres"] : [db as "sqlite" | "postgres"],
    seed: Number(values.seed),
    keep: values.keep,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!options) {
    console.log(USAGE);
    return;
  }
  const url = Deno.env.get("BENCH_DATABASE_URL") ?? Deno.env.get("TEST_DATABASE_URL");
  const results: StoreResult[] = [];
  for (const store of options.stores) {
    results.push(
      store === "sqlite" ? await benchSqlite(options) : await benchPostgres(url!, options),
    );
  }
  console.log(
    `\nSearch at ${
      int(options.messages)
    } messages, ${options.queries} searches of each kind, limit 20\n`,
  );
  console.log(formatTable([
    ["store", "query", "p50 ms", "p95 ms", "max ms", "found (mean)"],
    ...results.flatMap((r) =>
      r.kinds.map((k) => [r.store, k.kind, `${k.p50}`, `${k.p95}`, `${k.max}`, `${k.found}`])
    ),
  ]));
  console.log();
  console.log(formatTable([
    ["store", "fill s", "index s", "without index", "with index", "index parts"],
    ...results.map((r) => [
      r.store,
      `${round(r.fillSeconds)}`,
      `${round(r.indexSeconds)}`,
      mib(r.bytesWithout),
      mib(r.bytesWith),
      r.indexParts.map(([name, bytes]) => `${name} ${mib(bytes)}`).join(", "),
    ]),
  ]));
  console.log(JSON.stringify({ messages: options.messages, queries: options.queries, results }));
}

if (import.meta.main) await main();
