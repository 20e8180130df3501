// The workers' write lock: one holder at a time across threads, taken again inside, and given up on a stuck holder.
import assert from "node:assert/strict";
import { StoreUnavailableError } from "../db/store.ts";
import { WriteLock } from "../db/write_lock.ts";

Deno.test("write lock: a holder may take it again inside; it is free after", () => {
  const buffer = WriteLock.buffer();
  const lock = new WriteLock(buffer);
  const result = lock.hold(() => lock.hold(() => 42));
  assert.equal(result, 42);
  assert.throws(() =>
    lock.hold(() => {
      throw new Error("inside");
    }), /inside/);
  assert.equal(new Int32Array(buffer)[0], 0, "free after a throw too");
});

Deno.test("write lock: another thread waits while it is held, and goes on once released", async () => {
  const buffer = WriteLock.buffer();
  const lock = new WriteLock(buffer);
  const source = `
    import { WriteLock } from ${
    JSON.stringify(new URL("../db/write_lock.ts", import.meta.url).href)
  };
    let lock;
    self.onmessage = (event) => {
      if (event.data !== "take") {
        lock = new WriteLock(event.data);
        self.postMessage("ready");
        return;
      }
      const started = performance.now();
      lock.hold(() => {});
      self.postMessage(performance.now() - started);
    };
  `;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const next = () => new Promise<unknown>((resolve) => worker.onmessage = (e) => resolve(e.data));
  try {
    let answer = next();
    worker.postMessage(buffer);
    assert.equal(await answer, "ready");
    answer = next();
    lock.hold(() => {
      worker.postMessage("take");
      // Held for 300 ms on this thread (a write would be a fraction of a millisecond).
      const until = performance.now() + 300;
      while (performance.now() < until) { /* hold */ }
    });
    const waited = await answer as number;
    assert.ok(waited >= 200, `the other thread waited ${waited} ms`);
    assert.ok(waited < 1000, `and went on once it was free (${waited} ms)`);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("write lock: a holder that never lets go makes the others fail, not hang", () => {
  const buffer = WriteLock.buffer();
  Atomics.store(new Int32Array(buffer), 0, 1); // held by a worker that is stuck
  const lock = new WriteLock(buffer);
  const started = performance.now();
  assert.throws(() => lock.hold(() => {}), StoreUnavailableError);
  assert.ok(performance.now() - started >= 4_900);
});
