// A message stored through one connection (a worker, an instance), followed by since-polls through another until it shows.
import assert from "node:assert/strict";
import type { MessagePage, Store } from "../db/store.ts";

/**
 * Stores "from b" through `b`, then polls `a` with `since` every `pauseMs` (for 5 s at most)
 * until the message shows; checks that empty answers never move the cursor on. Returns the
 * page that has it and how long it took.
 */
export async function pollUntilSeen(
  a: Store,
  b: Store,
  pauseMs: number,
): Promise<{ page: MessagePage; ms: number }> {
  const room = (await a.getRoom("general"))!;
  const author = await a.createMember("Ada");
  const first = await a.listMessages(room, { since: 0, limit: 10 });
  await b.addMessage({ room, authorId: author.id, body: "from b", clientId: "b1" });
  const started = Date.now();
  let page = await a.listMessages(room, { since: first.cursor, limit: 10 });
  while (page.messages.length === 0 && Date.now() - started < 5000) {
    assert.equal(page.cursor, first.cursor, "an empty answer never moves the cursor on");
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    page = await a.listMessages(room, { since: first.cursor, limit: 10 });
  }
  assert.deepEqual(page.messages.map((m) => m.body), ["from b"]);
  return { page, ms: Date.now() - started };
}
