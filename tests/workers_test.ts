// Several workers serving one port (PARLEY_WORKERS): each answers, readers miss nothing and see order, limits hold across them.
import assert from "node:assert/strict";
import { guestCookie, httpFrom, serverTest, startServer } from "./server_process.ts";

const POLL = "/api/rooms/general/messages";

serverTest(
  "workers: two workers share the port; a reader polling through both misses nothing",
  async () => {
    const server = await startServer({
      env: { PARLEY_WORKERS: "2", PARLEY_BURST_MESSAGES: "1000" },
    });
    try {
      // Each request on a new connection: the kernel spreads them over both workers, each of
      // which names its requests with its own prefix.
      const prefixes = new Set<string>();
      for (let i = 0; i < 40 && prefixes.size < 2; i++) {
        const answer = await httpFrom(server.port, "127.0.0.1", "GET", "/login");
        assert.equal(answer.status, 200);
        const id = /^x-request-id: (\S+)-\d+$/im.exec(answer.headers)?.[1];
        assert.ok(id, answer.headers);
        prefixes.add(id);
      }
      assert.equal(prefixes.size, 2, "both workers answered");

      const poster = await guestCookie(server.port, "127.0.0.2");
      const reader = await guestCookie(server.port, "127.0.0.3");
      const first = JSON.parse(
        (await httpFrom(server.port, "127.0.0.3", "GET", `${POLL}?since=0`, { cookie: reader }))
          .body,
      );
      const count = 60;
      const received: { body: string; seq: number }[] = [];
      const reading = (async () => {
        let cursor = first.cursor;
        const deadline = Date.now() + 30_000;
        while (received.length < count && Date.now() < deadline) {
          const answer = await httpFrom(
            server.port,
            "127.0.0.3",
            "GET",
            `${POLL}?since=${cursor}&wait=5`,
            { cookie: reader },
          );
          assert.equal(answer.status, 200, answer.body);
          const page = JSON.parse(answer.body);
          received.push(...page.messages);
          cursor = page.cursor;
        }
      })();
      for (let i = 0; i < count; i++) {
        const sent = await httpFrom(server.port, "127.0.0.2", "POST", POLL, {
          cookie: poster,
          body: { body: `m${i}`, clientId: crypto.randomUUID() },
        });
        assert.equal(sent.status, 201, sent.body);
      }
      await reading;
      assert.deepEqual(
        received.map((m) => m.body),
        Array.from({ length: count }, (_, i) => `m${i}`),
      );
      const seqs = received.map((m) => m.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in change order");
      assert.equal(new Set(seqs).size, count, "none twice");
    } finally {
      await server.kill();
    }
  },
);

serverTest("workers: a rate limit counts the posts every worker took", async () => {
  const server = await startServer({
    env: { PARLEY_WORKERS: "2", PARLEY_BURST_MESSAGES: "5", PARLEY_BURST_SECONDS: "60" },
  });
  try {
    const cookie = await guestCookie(server.port, "127.0.0.2");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const sent = await httpFrom(server.port, "127.0.0.2", "POST", POLL, {
        cookie,
        body: { body: `burst ${i}`, clientId: crypto.randomUUID() },
      });
      statuses.push(sent.status);
    }
    assert.deepEqual(statuses, [...Array(5).fill(201), ...Array(7).fill(429)]);
  } finally {
    await server.kill();
  }
});
