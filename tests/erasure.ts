// The erasure check shared by both stores' own tests: after a deletion, no table holds the text.
import assert from "node:assert/strict";
import type { Store } from "../db/store.ts";

/** How a test looks into a store's tables directly (not through the Store interface). */
export interface RawTables {
  /** The tables with a row whose text matches the LIKE `pattern`. */
  holding(pattern: string): Promise<string[]>;
  /** The reactions stored for a message. */
  reactions(messageId: number): Promise<number>;
  /** A message's stored body and deletion time. */
  message(id: number): Promise<{ body: string; deleted_at: unknown }>;
}

/**
 * Writes a message (edited, reacted to, replied to, with a file), checks that the raw query
 * finds its text, reaction and file name, deletes it, and checks that no table holds any of
 * them any more and that the file's bytes are gone.
 */
export async function checkErasure(store: Store, raw: RawTables): Promise<void> {
  const room = (await store.getRoom("general"))!;
  const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
  const file = await store.addFile({
    roomId: room.id,
    uploaderId: ada.id,
    name: "secret-plans.txt",
    type: "text/plain",
    width: null,
    height: null,
    content: (async function* () {
      yield new TextEncoder().encode("the plans, in full");
    })(),
    maxBytes: 1000,
    now: Date.now(),
  });
  const { message } = await store.addMessage({
    room,
    authorId: ada.id,
    body: "the launch code is 1234",
    clientId: "s",
    attachments: [file.id],
  });
  await store.editMessage({
    room,
    id: message.id,
    body: "the launch code is 1234, really",
    now: Date.now(),
  });
  await store.react({
    room,
    id: message.id,
    memberId: bob.id,
    emoji: "🤫",
    add: true,
    maxEmoji: 20,
  });
  await store.addMessage({
    room,
    authorId: bob.id,
    body: "ok",
    clientId: "r",
    replyTo: message.id,
  });
  assert.deepEqual(await raw.holding("%launch code%"), ["messages"], "the query finds the text");
  assert.deepEqual(await raw.holding("%🤫%"), ["reactions"], "the query finds the reaction");
  assert.deepEqual(await raw.holding("%secret-plans%"), ["files"], "the query finds the file");
  assert.ok(await store.readContent(file.sha256));
  assert.equal(await raw.reactions(message.id), 1);
  const deleted = await store.deleteMessage({ room, id: message.id, now: Date.now() });
  assert.ok(deleted.ok && deleted.changed);
  assert.deepEqual(await raw.holding("%launch code%"), [], "no table holds the text");
  assert.deepEqual(await raw.holding("%🤫%"), [], "no table holds the reaction");
  assert.deepEqual(await raw.holding("%secret-plans%"), [], "no table holds the file");
  assert.equal(await store.getFile(file.id), null);
  assert.equal(await store.readContent(file.sha256), null, "the file's bytes are gone");
  assert.equal(await raw.reactions(message.id), 0, "no reaction of the message is left");
  const row = await raw.message(message.id);
  assert.equal(row.body, "");
  assert.ok(row.deleted_at !== null, "the tombstone stays");
}
