// Rate limits and per-key counts on shared memory: exact across workers, bounded, and as strict as a window.
import assert from "node:assert/strict";
import { limiterBuffers, sharedLimiters } from "../chat/limiters.ts";
import { PollGate } from "../chat/poll_gate.ts";
import { SharedRateLimiter } from "../chat/shared_rate_limiter.ts";
import { SharedCounts } from "../runtime/shared_counts.ts";
import { SharedTable } from "../runtime/shared_table.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function limiter(limit: number, windowMs: number, name = "test") {
  return new SharedRateLimiter(new SharedTable(SharedRateLimiter.buffer(1024)), {
    name,
    limit,
    windowMs,
  });
}

Deno.test("shared rate limit: allows the limit in a window, then says how long to wait", () => {
  const rate = limiter(3, 16_000);
  assert.equal(rate.take("a", T0), 0);
  assert.equal(rate.take("a", T0 + 100), 0);
  assert.equal(rate.take("a", T0 + 200), 0);
  const wait = rate.take("a", T0 + 300);
  assert.ok(wait >= 16_000 - 300 && wait <= 17_000, `waits ${wait} ms`);
  assert.equal(rate.take("b", T0 + 300), 0, "another key has its own count");
  assert.ok(rate.take("a", T0 + 300 + wait - 1_001) > 0, "still refused a second before");
  assert.equal(rate.take("a", T0 + 300 + wait), 0, "allowed once the wait is over");
});

Deno.test("shared rate limit: never looser than an exact sliding window", () => {
  // One event every 250 ms against 4 per 4 s: at most 4 in any 4 s span are allowed.
  const rate = limiter(4, 4_000);
  const allowed: number[] = [];
  for (let t = T0; t < T0 + 60_000; t += 250) if (rate.take("a", t) === 0) allowed.push(t);
  for (let i = 4; i < allowed.length; i++) {
    assert.ok(allowed[i] - allowed[i - 4] >= 4_000, `5 events within 4 s at ${allowed[i]}`);
  }
  assert.ok(allowed.length >= 50, `but it still allows most: ${allowed.length} of 60 s`);
});

Deno.test("shared rate limit: forgive takes back an event; names keep limits apart", () => {
  const table = new SharedTable(SharedRateLimiter.buffer(64));
  const logins = new SharedRateLimiter(table, { name: "logins", limit: 1, windowMs: 60_000 });
  const posts = new SharedRateLimiter(table, { name: "posts", limit: 1, windowMs: 60_000 });
  assert.equal(logins.take("x", T0), 0);
  assert.equal(posts.take("x", T0), 0, "the same key under another name");
  assert.ok(logins.take("x", T0 + 1) > 0);
  logins.forgive("x", T0);
  assert.equal(logins.take("x", T0 + 2), 0, "allowed again once forgiven");
  logins.forgive("never seen", T0);
});

Deno.test("shared table: stays bounded under many keys, the least recently used go first", () => {
  const counts = new SharedCounts(SharedCounts.buffer(8));
  counts.add("kept", 1);
  for (let i = 0; i < 10_000; i++) {
    counts.add(`key ${i}`, 1);
    counts.get("kept");
  }
  assert.equal(counts.get("kept"), 1, "a key in use keeps its record");
  assert.equal(counts.add("kept", -1), 0);
  assert.equal(counts.add("kept", -1), 0, "never below 0");
  const rate = new SharedRateLimiter(new SharedTable(SharedRateLimiter.buffer(8)), {
    name: "r",
    limit: 1,
    windowMs: 1_000,
  });
  for (let i = 0; i < 1_000; i++) assert.equal(rate.take(`k${i}`, T0 + i * 10), 0);
});

Deno.test("shared poll gate: two gates on one buffer count one address together", () => {
  const buffers = limiterBuffers(256);
  const [a, b] = [sharedLimiters(buffers), sharedLimiters(buffers)].map((limiters) =>
    new PollGate({ maxPerAddress: 2, counts: limiters.held("polls") })
  );
  const leaveA = a.enter("10.0.0.1");
  b.enter("10.0.0.1");
  assert.throws(() => a.enter("10.0.0.1"), { code: "too_many_polls" });
  assert.throws(() => b.enter("10.0.0.1"), { code: "too_many_polls" });
  assert.equal(b.waiting("10.0.0.1"), 2, "a refused poll is not counted");
  leaveA();
  leaveA();
  assert.equal(a.waiting("10.0.0.1"), 1, "ending twice counts once");
  b.enter("10.0.0.1");
});

Deno.test("shared limits: two workers taking at once get exactly the limit between them", async () => {
  const buffers = limiterBuffers(256);
  const workers = [0, 1].map(() =>
    new Worker(new URL("./shared_limits_worker.ts", import.meta.url), { type: "module" })
  );
  try {
    const results = await Promise.all(
      workers.map((worker) =>
        new Promise<{ allowed: number; highest: number }>((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => reject(event.message);
          worker.postMessage({ buffers, attempts: 50_000 });
        })
      ),
    );
    assert.equal(results[0].allowed + results[1].allowed, 1000);
    assert.ok(results.every((r) => r.highest <= 2), "the count is never more than both at once");
    assert.equal(sharedLimiters(buffers).held("test").get("busy address"), 0);
  } finally {
    workers.forEach((worker) => worker.terminate());
  }
});
