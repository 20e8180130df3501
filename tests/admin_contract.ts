// The moderation contract: bans, admin rights, archived and deleted rooms, the audit log, the same on every Store.
import assert from "node:assert/strict";
import type { Member, Room, Store } from "../db/store.ts";

/** A store with `general`, an admin (Ada) and a guest (Bob). */
interface World {
  store: Store;
  general: Room;
  ada: Member;
  bob: Member;
}

function bytes(text: string): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield new TextEncoder().encode(text);
  })();
}

/** Makes a public room named `slug` created by `by`. */
async function publicRoom(store: Store, slug: string, by: Member): Promise<Room> {
  const room = await store.createRoom({
    slug,
    name: slug,
    topic: "",
    kind: "public",
    createdBy: by.id,
  });
  assert.ok(room, `room ${slug} created`);
  return room;
}

/** Registers the moderation contract tests for a store opened by `open` (fresh each time). */
export function adminContract(
  name: string,
  open: () => Promise<Store>,
  options: { ignore?: boolean } = {},
): void {
  function test(title: string, fn: (world: World) => Promise<void>) {
    Deno.test({
      name: `${name} store moderation: ${title}`,
      ignore: options.ignore,
      fn: async () => {
        const store = await open();
        try {
          const general = (await store.getRoom("general"))!;
          const registered = await store.registerAccount({
            memberId: null,
            name: "Ada",
            username: "ada",
            usernameKey: "ada",
            passwordHash: "hash",
          });
          assert.ok(registered.ok);
          const bob = await store.createMember("Bob");
          await fn({ store, general, ada: registered.member, bob });
        } finally {
          await store.close();
        }
      },
    });
  }

  test("a ban ends every session at once and hides new ones; unban restores", async (w) => {
    const { store, bob } = w;
    await store.createSession(bob.id, "bob-1");
    await store.createSession(bob.id, "bob-2");
    const adaSession = await store.createSession(w.ada.id, "ada-1");
    assert.equal(await store.banMember(bob.id, 1000), 2);
    assert.equal(await store.getSession("bob-1"), null);
    assert.equal(await store.getSession("bob-2"), null);
    assert.deepEqual((await store.getSession("ada-1"))?.id, adaSession.id, "others keep theirs");
    assert.equal(await store.isBanned(bob.id), true);
    assert.equal(await store.banMember(bob.id, 2000), 0, "banning again changes nothing");
    assert.equal(await store.banMember(999_999, 1000), null, "no such member");
    const [listed] = await store.listAdminMembers({ query: "bob", limit: 10 });
    assert.equal(listed.bannedAt, 1000, "the first ban's time is kept");

    assert.equal(await store.unbanMember(bob.id), true);
    assert.equal(await store.unbanMember(bob.id), false);
    assert.equal(await store.isBanned(bob.id), false);
    await store.createSession(bob.id, "bob-3");
    assert.equal((await store.getSession("bob-3"))?.member.id, bob.id);
  });

  test("admin members list: search, accounts and guests, last seen, message count", async (w) => {
    const { store, general, ada, bob } = w;
    await store.addMessage({ room: general, authorId: bob.id, body: "one", clientId: "1" });
    const { message } = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "two",
      clientId: "2",
    });
    await store.deleteMessage({ room: general, id: message.id, now: Date.now() });
    const session = await store.createSession(bob.id, "bob");
    await store.touchSession(session.id, 5_000_000_000_000);

    const all = await store.listAdminMembers({ limit: 10 });
    assert.deepEqual(all.map((m) => m.name), ["Bob", "Ada"], "newest first");
    const [bobRow, adaRow] = all;
    assert.deepEqual(bobRow, {
      id: bob.id,
      name: "Bob",
      username: null,
      isAdmin: false,
      bannedAt: null,
      createdAt: bobRow.createdAt,
      lastSeenAt: 5_000_000_000_000,
      messageCount: 1,
    });
    assert.equal(adaRow.username, "ada");
    assert.equal(adaRow.isAdmin, true);
    assert.equal(adaRow.lastSeenAt, null);
    assert.deepEqual((await store.listAdminMembers({ query: "AD", limit: 10 })).map((m) => m.id), [
      ada.id,
    ]);
    assert.deepEqual(await store.listAdminMembers({ query: "%", limit: 10 }), [], "% is literal");
    assert.equal((await store.listAdminMembers({ limit: 1 })).length, 1);
  });

  test("admin rights: only accounts, counted", async (w) => {
    const { store, ada, bob } = w;
    assert.equal(await store.countAdmins(), 1);
    assert.equal(await store.setAdmin(bob.id, true), false, "a guest cannot be an admin");
    const registered = await store.registerAccount({
      memberId: bob.id,
      name: "Bob",
      username: "bob",
      usernameKey: "bob",
      passwordHash: "hash",
    });
    assert.ok(registered.ok);
    assert.equal(await store.setAdmin(bob.id, true), true);
    assert.equal(await store.countAdmins(), 2);
    assert.equal(await store.setAdmin(ada.id, false), true);
    assert.equal(await store.countAdmins(), 1);
    await store.createSession(bob.id, "bob");
    assert.equal((await store.getSession("bob"))?.account?.isAdmin, true);
  });

  test("deleting a member's messages erases each with the room's next change number", async (w) => {
    const { store, general, ada, bob } = w;
    const file = await store.addFile({
      roomId: general.id,
      uploaderId: bob.id,
      name: "b.txt",
      type: "text/plain",
      width: null,
      height: null,
      content: bytes("bob's file"),
      maxBytes: 100,
      now: Date.now(),
    });
    const first = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "first",
      clientId: "1",
      attachments: [file.id],
    });
    await store.react({
      room: general,
      id: first.message.id,
      memberId: ada.id,
      emoji: "👍",
      add: true,
      maxEmoji: 20,
    });
    await store.addMessage({ room: general, authorId: ada.id, body: "ada's", clientId: "a" });
    await store.addMessage({ room: general, authorId: bob.id, body: "second", clientId: "2" });
    const before = await store.listMessages(general, { latest: true, limit: 10 });
    const waiter = store.waitForChange(general, before.cursor, { timeoutMs: 5000 });

    assert.equal(await store.deleteMessagesBy(bob.id, Date.now()), 2);
    assert.equal(await waiter.arrived, true, "readers are woken");
    const changed = await store.listMessages(general, { since: before.cursor, limit: 10 });
    assert.deepEqual(changed.messages.map((m) => [m.body, m.deleted, m.reactions.length]), [
      ["", true, 0],
      ["", true, 0],
    ]);
    assert.equal(changed.cursor, before.cursor + 2, "one change number each");
    assert.equal(await store.getFile(file.id), null, "the file is gone");
    assert.equal(await store.readContent(file.sha256), null, "and its bytes");
    const after = await store.listMessages(general, { latest: true, limit: 10 });
    assert.deepEqual(after.messages.map((m) => m.body), ["", "ada's", ""]);
    assert.equal(await store.deleteMessagesBy(bob.id, Date.now()), 0);
  });

  test("deleting many messages in several rooms: every one erased, numbers in order", async (w) => {
    const { store, general, ada, bob } = w;
    const other = await publicRoom(store, "other", ada);
    for (let i = 0; i < 250; i++) {
      const room = i % 2 === 0 ? general : other;
      await store.addMessage({ room, authorId: bob.id, body: `bob ${i}`, clientId: `b${i}` });
      if (i % 25 === 0) {
        await store.addMessage({ room, authorId: ada.id, body: `ada ${i}`, clientId: `a${i}` });
      }
    }
    const cursors = new Map<number, number>();
    for (const room of [general, other]) {
      cursors.set(room.id, (await store.listMessages(room, { latest: true, limit: 1 })).cursor);
    }
    assert.equal(await store.deleteMessagesBy(bob.id, Date.now()), 250);
    for (const room of [general, other]) {
      const since = cursors.get(room.id)!;
      const changed = await store.listMessages(room, { since, limit: 200 });
      assert.equal(changed.messages.length, 125, `${room.slug}: each deletion is a change`);
      assert.ok(changed.messages.every((m) => m.deleted && m.body === ""));
      assert.equal(changed.cursor, since + 125, "one change number each, no gaps");
      const seqs = changed.messages.map((m) => m.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in change order");
      assert.deepEqual(
        changed.messages.map((m) => m.id),
        changed.messages.map((m) => m.id).sort((a, b) => a - b),
        "oldest first",
      );
      const left = await store.listMessages(room, { latest: true, limit: 200 });
      assert.equal(left.messages.filter((m) => !m.deleted).length, 5, "ada's stay");
    }
  });

  test("an archived room says so; deleting a room takes its messages and files", async (w) => {
    const { store, ada, bob } = w;
    const attic = await publicRoom(store, "attic", ada);
    assert.equal(attic.archived, undefined);
    assert.equal(await store.archiveRoom(attic.id, 1000), true);
    assert.equal((await store.getRoom("attic"))?.archived, true);
    assert.equal(await store.archiveRoom(999_999, 1000), false);

    await store.addRoomMember(attic.id, bob.id);
    const file = await store.addFile({
      roomId: attic.id,
      uploaderId: ada.id,
      name: "a.txt",
      type: "text/plain",
      width: null,
      height: null,
      content: bytes("only in the attic"),
      maxBytes: 100,
      now: Date.now(),
    });
    const { message } = await store.addMessage({
      room: attic,
      authorId: ada.id,
      body: "up here",
      clientId: "x",
      attachments: [file.id],
    });
    await store.addMessage({
      room: attic,
      authorId: bob.id,
      body: "reply",
      clientId: "y",
      replyTo: message.id,
      mentions: [ada.id],
    });
    await store.react({
      room: attic,
      id: message.id,
      memberId: bob.id,
      emoji: "👍",
      add: true,
      maxEmoji: 20,
    });
    const rooms = await store.listAdminRooms(10);
    assert.deepEqual(rooms.map((r) => [r.slug, r.members, r.messages, r.archived ?? false]), [
      ["attic", 2, 2, true],
      ["general", 0, 0, false],
    ]);

    assert.equal(await store.deleteRoom(attic.id), true);
    assert.equal(await store.getRoom("attic"), null);
    assert.equal(await store.getMessage(attic, message.id), null);
    assert.equal(await store.getFile(file.id), null);
    assert.equal(await store.readContent(file.sha256), null);
    assert.deepEqual((await store.listMyRooms(bob.id, 99)).map((r) => r.slug), []);
    assert.equal(await store.deleteRoom(attic.id), false);
    const found = await store.searchMessages({
      readerId: ada.id,
      words: ["here"],
      phrases: [],
      limit: 10,
    });
    assert.deepEqual(found, [], "not found by search either");
  });

  test("deleting a large room with chains of replies leaves other rooms alone", async (w) => {
    const { store, general, ada } = w;
    const big = await publicRoom(store, "big", ada);
    let previous: number | null = null;
    for (let i = 0; i < 1200; i++) {
      const { message } = await store.addMessage({
        room: big,
        authorId: ada.id,
        body: `big ${i}`,
        clientId: `big-${i}`,
        replyTo: i % 3 === 0 ? null : previous,
      });
      previous = message.id;
    }
    await store.addMessage({ room: general, authorId: ada.id, body: "elsewhere", clientId: "g" });
    assert.equal(await store.deleteRoom(big.id), true);
    assert.equal(await store.getRoom("big"), null);
    const left = await store.listMessages(general, { latest: true, limit: 10 });
    assert.deepEqual(left.messages.map((m) => m.body), ["elsewhere"]);
    const [row] = await store.listAdminMembers({ query: "ada", limit: 1 });
    assert.equal(row.messageCount, 1);
  });

  test("deleting a room wakes the long polls waiting in it", async (w) => {
    const { store, ada } = w;
    const attic = await publicRoom(store, "attic", ada);
    const waiter = store.waitForChange(attic, 0, { timeoutMs: 10_000 });
    const started = Date.now();
    assert.equal(await store.deleteRoom(attic.id), true);
    assert.equal(await waiter.arrived, true, "woken, not timed out");
    assert.ok(Date.now() - started < 5000);
  });

  test("the audit log: newest first, paged, with the actor's name", async (w) => {
    const { store, ada, bob } = w;
    for (let i = 1; i <= 5; i++) {
      await store.recordAudit({
        at: i * 1000,
        actorId: ada.id,
        action: "member.ban",
        targetKind: "member",
        targetId: String(bob.id),
        detail: { n: i, name: "Bob" },
      });
    }
    const page = await store.listAuditLog({ limit: 3 });
    assert.deepEqual(page.map((e) => e.detail.n), [5, 4, 3]);
    assert.deepEqual(page[0], {
      id: page[0].id,
      at: 5000,
      actor: { id: ada.id, name: "Ada" },
      action: "member.ban",
      targetKind: "member",
      targetId: String(bob.id),
      detail: { n: 5, name: "Bob" },
    });
    const next = await store.listAuditLog({ before: page[2].id, limit: 3 });
    assert.deepEqual(next.map((e) => e.detail.n), [2, 1]);
  });

  test("open invitations: not used, not expired", async (w) => {
    const { store, ada } = w;
    const now = Date.now();
    await store.createInvite({ createdBy: ada.id, tokenHash: "open", expiresAt: now + 60_000 });
    await store.createInvite({ createdBy: ada.id, tokenHash: "old", expiresAt: now - 1 });
    await store.createInvite({ createdBy: ada.id, tokenHash: "used", expiresAt: now + 60_000 });
    const used = await store.registerAccount({
      memberId: null,
      name: "Cy",
      username: "cy",
      usernameKey: "cy",
      passwordHash: "hash",
      invite: { tokenHash: "used", now },
    });
    assert.ok(used.ok);
    const open = await store.listOpenInvites(now);
    assert.equal(open.length, 1);
    assert.deepEqual(open[0].createdBy, ada);
    assert.equal(open[0].expiresAt, now + 60_000);
  });
}
