// The store contract: the same tests for every Store implementation (SQLite now, PostgreSQL next).
import assert from "node:assert/strict";
import type { Message, MessageChange, NewAccount, Room, Store } from "../db/store.ts";

/** Input for registering `username` (the guest `memberId`, or a new member of that name). */
export function newAccount(username: string, memberId: number | null = null): NewAccount {
  return {
    memberId,
    name: username,
    username,
    usernameKey: username.toLowerCase(),
    passwordHash: `hash-of-${username}`,
  };
}

/** Registers the contract tests for a store opened by `open` (fresh and empty each time). */
export function storeContract(
  name: string,
  open: () => Promise<Store>,
  options: { ignore?: boolean } = {},
): void {
  function test(title: string, fn: (store: Store, general: Room) => Promise<void>) {
    Deno.test({
      name: `${name} store: ${title}`,
      ignore: options.ignore,
      fn: async () => {
        const store = await open();
        try {
          const general = await store.getRoom("general");
          assert.ok(general, "the first migration creates the room general");
          await fn(store, general);
        } finally {
          await store.close();
        }
      },
    });
  }

  test(
    "passes typing signals to its listeners without storing anything",
    async (store, general) => {
      const heard: unknown[] = [];
      const stop = store.onTyping((signal) => heard.push(signal));
      const signal = { roomId: general.id, memberId: 7, name: 'Ada "😀"', typing: true };
      await store.publishTyping(signal);
      await store.publishTyping({ ...signal, typing: false });
      for (let i = 0; i < 100 && heard.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(heard, [signal, { ...signal, typing: false }]);
      stop();
      await store.publishTyping(signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(heard.length, 2, "not after stopping");
      assert.equal((await store.listMessages(general, { since: 0, limit: 5 })).messages.length, 0);
    },
  );

  test("has the default room and no unknown ones", async (store, general) => {
    assert.equal(general.slug, "general");
    assert.equal(general.name, "general");
    assert.equal(await store.getRoom("nope"), null);
    assert.deepEqual(await store.getRoomById(general.id), general);
    assert.equal(await store.getRoomById(general.id + 1000), null);
  });

  test("keeps the first value of a setting", async (store) => {
    assert.equal(await store.getSetting("k"), null);
    assert.equal(await store.initSetting("k", "first"), "first");
    assert.equal(await store.initSetting("k", "second"), "first");
    assert.equal(await store.getSetting("k"), "first");
  });

  test("creates, finds and renames members", async (store) => {
    const ada = await store.createMember("Ada");
    const bob = await store.createMember("Bob");
    assert.notEqual(ada.id, bob.id);
    assert.deepEqual(await store.getMember(ada.id), ada);
    assert.deepEqual(await store.renameMember(ada.id, "Ada L."), { id: ada.id, name: "Ada L." });
    assert.equal((await store.getMember(ada.id))?.name, "Ada L.");
    assert.equal(await store.renameMember(999_999, "Nobody"), null);
    assert.equal(await store.getMember(999_999), null);
  });

  test("finds sessions by token hash and records their use", async (store) => {
    const ada = await store.createMember("Ada");
    const session = await store.createSession(ada.id, "hash-1");
    assert.deepEqual(session.member, ada);
    const found = await store.getSession("hash-1");
    assert.equal(found?.id, session.id);
    assert.deepEqual(found?.member, ada);
    assert.equal(await store.getSession("hash-2"), null);
    await store.touchSession(session.id, session.lastSeenAt + 60_000);
    assert.equal((await store.getSession("hash-1"))?.lastSeenAt, session.lastSeenAt + 60_000);
  });

  test("stores a message once per author and client id", async (store, general) => {
    const ada = await store.createMember("Ada");
    const bob = await store.createMember("Bob");
    const first = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "hi <b>",
      clientId: "c1",
    });
    assert.equal(first.created, true);
    assert.equal(first.message.body, "hi <b>");
    assert.equal(first.message.room, "general");
    assert.equal(first.message.clientId, "c1");
    assert.deepEqual(first.message.author, { ...ada, username: null });
    assert.ok(!Number.isNaN(Date.parse(first.message.createdAt)));
    const again = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "changed",
      clientId: "c1",
    });
    assert.equal(again.created, false);
    assert.deepEqual(again.message, first.message);
    const other = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "mine too",
      clientId: "c1",
    });
    assert.equal(other.created, true);
    const all = (await store.listMessages(general, { latest: true, limit: 10 })).messages;
    assert.deepEqual(all.map((m) => m.body), ["hi <b>", "mine too"]);
  });

  test("pages history by id: latest, before and after, ascending", async (store, general) => {
    const ada = await store.createMember("Ada");
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      const { message } = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: `m${i}`,
        clientId: `c${i}`,
      });
      ids.push(message.id);
    }
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), "ids increase");
    const latest = (await store.listMessages(general, { latest: true, limit: 10 })).messages;
    assert.deepEqual(latest.map((m) => m.id), ids.slice(15));
    const older = (await store.listMessages(general, { before: ids[15], limit: 10 })).messages;
    assert.deepEqual(older.map((m) => m.id), ids.slice(5, 15));
    const oldest = (await store.listMessages(general, { before: ids[5], limit: 10 })).messages;
    assert.deepEqual(oldest.map((m) => m.id), ids.slice(0, 5));
    const newer = (await store.listMessages(general, { after: ids[19], limit: 3 })).messages;
    assert.deepEqual(newer.map((m) => m.id), ids.slice(20, 23));
    assert.deepEqual(
      (await store.listMessages(general, { after: ids[24], limit: 10 })).messages,
      [],
    );
  });

  test("finds a sent message by its author and client id", async (store, general) => {
    const ada = await store.createMember("Ada");
    const { message } = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "once",
      clientId: "retry-me",
    });
    assert.deepEqual(await store.findSent(ada.id, "retry-me"), message);
    assert.equal(await store.findSent(ada.id, "other"), null);
    assert.equal(await store.findSent(ada.id + 1, "retry-me"), null);
  });

  test("keeps rooms apart", async (store, general) => {
    const ada = await store.createMember("Ada");
    await store.addMessage({ room: general, authorId: ada.id, body: "here", clientId: "a" });
    const elsewhere: Room = { ...general, id: general.id + 1000, slug: "elsewhere" };
    assert.deepEqual(
      (await store.listMessages(elsewhere, { latest: true, limit: 10 })).messages,
      [],
    );
  });

  test("wakes a wait when a newer message arrives", async (store, general) => {
    const ada = await store.createMember("Ada");
    const waiter = store.waitForChange(general, 0, { timeoutMs: 5000 });
    const started = Date.now();
    await store.addMessage({ room: general, authorId: ada.id, body: "ping", clientId: "p" });
    assert.equal(await waiter.arrived, true);
    assert.ok(Date.now() - started < 2000, "woken by the message, not by the timeout");
  });

  test("a wait ends false on timeout and on abort", async (store, general) => {
    const timed = store.waitForChange(general, 0, { timeoutMs: 20 });
    assert.equal(await timed.arrived, false);
    const controller = new AbortController();
    const aborted = store.waitForChange(general, 0, {
      timeoutMs: 5000,
      signal: controller.signal,
    });
    controller.abort();
    assert.equal(await aborted.arrived, false);
    const cancelled = store.waitForChange(general, 0, { timeoutMs: 5000 });
    cancelled.cancel();
    assert.equal(await cancelled.arrived, false);
  });

  test(
    "a wait for an older cursor than the newest message returns at once",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const { message } = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: "x",
        clientId: "x",
      });
      const waiter = store.waitForChange(general, message.seq - 1, { timeoutMs: 5000 });
      assert.equal(await waiter.arrived, true);
    },
  );

  /** Sends `body` as `authorId` in `room` and returns the stored message. */
  async function send(store: Store, room: Room, authorId: number, body: string, replyTo?: number) {
    const { message } = await store.addMessage({
      room,
      authorId,
      body,
      clientId: crypto.randomUUID(),
      replyTo,
    });
    return message;
  }

  /** The message of a change that must have worked. */
  function changed(result: MessageChange): Message {
    assert.ok(result.ok, `the change failed: ${JSON.stringify(result)}`);
    return result.message;
  }

  test(
    "every change takes the room's next change number; since gives each once, current",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const start = (await store.listMessages(general, { latest: true, limit: 1 })).cursor;
      const m1 = await send(store, general, ada.id, "one");
      const m2 = await send(store, general, ada.id, "two");
      const m3 = await send(store, general, ada.id, "three");
      assert.deepEqual([m1.seq, m2.seq, m3.seq], [start + 1, start + 2, start + 3]);
      assert.equal(m1.editedAt, null);
      assert.equal(m1.deleted, false);
      assert.deepEqual(m1.reactions, []);
      assert.equal(m1.replyTo, null);
      const edited = changed(
        await store.editMessage({ room: general, id: m1.id, body: "one, edited", now: Date.now() }),
      );
      assert.equal(edited.seq, start + 4);
      assert.equal(edited.body, "one, edited");
      assert.ok(edited.editedAt && !Number.isNaN(Date.parse(edited.editedAt)));
      const reacted = changed(
        await store.react({
          room: general,
          id: m2.id,
          memberId: ada.id,
          emoji: "👍",
          add: true,
          maxEmoji: 20,
        }),
      );
      assert.equal(reacted.seq, start + 5);
      // Since the third message: the two changed ones, once each, ascending by change number.
      const page = await store.listMessages(general, { since: start + 3, limit: 50 });
      assert.deepEqual(page.messages.map((m) => [m.id, m.seq]), [[m1.id, start + 4], [
        m2.id,
        start + 5,
      ]]);
      assert.equal(page.messages[0].body, "one, edited");
      assert.deepEqual(page.messages[1].reactions, [{
        emoji: "👍",
        count: 1,
        memberIds: [ada.id],
      }]);
      assert.equal(page.cursor, start + 5);
      // From the start: every message once, in change order; paged forward by the cursor.
      const all = await store.listMessages(general, { since: start, limit: 50 });
      assert.deepEqual(all.messages.map((m) => m.id), [m3.id, m1.id, m2.id]);
      const first = await store.listMessages(general, { since: start, limit: 2 });
      assert.deepEqual(first.messages.map((m) => m.id), [m3.id, m1.id]);
      assert.equal(first.cursor, start + 4);
      const rest = await store.listMessages(general, { since: first.cursor, limit: 2 });
      assert.deepEqual(rest.messages.map((m) => m.id), [m2.id]);
      assert.equal(rest.cursor, start + 5);
      const none = await store.listMessages(general, { since: start + 5, limit: 2 });
      assert.deepEqual(none, { messages: [], cursor: start + 5 });
      // Every list answer carries the room's change number.
      assert.equal(
        (await store.listMessages(general, { latest: true, limit: 1 })).cursor,
        start + 5,
      );
      assert.equal((await store.listMessages(general, { after: 0, limit: 1 })).cursor, start + 5);
    },
  );

  test(
    "change numbers are per room and never repeat under concurrent changes",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const other = await store.createRoom({
        slug: "other",
        name: "other",
        topic: "",
        kind: "public",
        createdBy: ada.id,
      });
      assert.ok(other);
      const base = await Promise.all(
        [0, 1, 2, 3].map((i) => send(store, general, ada.id, `b${i}`)),
      );
      const inOther = await send(store, other, ada.id, "elsewhere");
      assert.equal(inOther.seq, 1, "another room counts from its own start");
      const results = await Promise.all([
        ...Array.from({ length: 12 }, (_, i) => send(store, general, ada.id, `n${i}`)),
        ...base.map(async (m, i) =>
          changed(
            await store.editMessage({ room: general, id: m.id, body: `e${i}`, now: Date.now() }),
          )
        ),
        ...base.map(async (m) =>
          changed(
            await store.react({
              room: general,
              id: m.id,
              memberId: ada.id,
              emoji: "🎉",
              add: true,
              maxEmoji: 20,
            }),
          )
        ),
      ]);
      const seqs = results.map((m) => m.seq);
      assert.equal(new Set(seqs).size, seqs.length, "no change number is used twice");
      const page = await store.listMessages(general, { since: 0, limit: 100 });
      const listed = page.messages.map((m) => m.seq);
      assert.deepEqual(listed, [...listed].sort((a, b) => a - b), "ascending by change number");
      assert.equal(new Set(page.messages.map((m) => m.id)).size, 16, "each message once");
      assert.equal(page.cursor, Math.max(...listed));
      assert.equal(
        page.cursor,
        (await store.listMessages(general, { latest: true, limit: 1 })).cursor,
      );
    },
  );

  test(
    "deleting erases text and reactions, keeps the tombstone in place, once",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const bob = await store.createMember("Bob");
      const target = await send(store, general, ada.id, "a secret that must go");
      await store.react({
        room: general,
        id: target.id,
        memberId: bob.id,
        emoji: "👍",
        add: true,
        maxEmoji: 20,
      });
      const reply = await send(store, general, bob.id, "what secret?", target.id);
      assert.deepEqual(reply.replyTo, {
        id: target.id,
        authorName: "Ada",
        excerpt: "a secret that must go",
      });
      const tombstone = changed(
        await store.deleteMessage({ room: general, id: target.id, now: Date.now() }),
      );
      assert.equal(tombstone.deleted, true);
      assert.equal(tombstone.body, "");
      assert.deepEqual(tombstone.reactions, []);
      assert.ok(tombstone.seq > reply.seq);
      const again = await store.deleteMessage({ room: general, id: target.id, now: Date.now() });
      assert.ok(
        again.ok && !again.changed && again.message.seq === tombstone.seq,
        "deleting twice changes nothing",
      );
      const page = (await store.listMessages(general, { latest: true, limit: 10 })).messages;
      assert.deepEqual(
        page.map((m) => m.id),
        [target.id, reply.id],
        "the tombstone keeps its place",
      );
      assert.deepEqual(page[1].replyTo, { id: target.id, authorName: "Ada", deleted: true });
      assert.deepEqual(
        await store.editMessage({ room: general, id: target.id, body: "back", now: Date.now() }),
        { ok: false, problem: "deleted" },
      );
      assert.deepEqual(
        await store.react({
          room: general,
          id: target.id,
          memberId: ada.id,
          emoji: "👍",
          add: true,
          maxEmoji: 20,
        }),
        { ok: false, problem: "deleted" },
      );
    },
  );

  test(
    "reactions: idempotent, grouped by emoji in first-used order, capped",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const bob = await store.createMember("Bob");
      const m = await send(store, general, ada.id, "react to me");
      const react = (memberId: number, emoji: string, add = true, maxEmoji = 3) =>
        store.react({ room: general, id: m.id, memberId, emoji, add, maxEmoji });
      const first = changed(await react(bob.id, "🎉"));
      changed(await react(ada.id, "👍"));
      const third = changed(await react(ada.id, "🎉"));
      assert.deepEqual(third.reactions, [
        { emoji: "🎉", count: 2, memberIds: [bob.id, ada.id] },
        { emoji: "👍", count: 1, memberIds: [ada.id] },
      ]);
      const twice = await react(ada.id, "🎉");
      assert.ok(
        twice.ok && !twice.changed && twice.message.seq === third.seq,
        "adding twice changes nothing",
      );
      const removed = changed(await react(bob.id, "🎉", false));
      assert.ok(removed.seq > third.seq);
      // The order is that of the earliest reaction still there.
      assert.deepEqual(removed.reactions, [
        { emoji: "👍", count: 1, memberIds: [ada.id] },
        { emoji: "🎉", count: 1, memberIds: [ada.id] },
      ]);
      const gone = await react(bob.id, "🎉", false);
      assert.ok(gone.ok && !gone.changed, "removing what is not there changes nothing");
      changed(await react(bob.id, "❤️"));
      assert.deepEqual(await react(bob.id, "🔥"), { ok: false, problem: "too_many_emoji" });
      assert.ok((await react(bob.id, "👍")).ok, "an emoji already there is always allowed");
      assert.ok(first.seq < removed.seq);
    },
  );

  test("changes to messages of other rooms or none are not found", async (store, general) => {
    const ada = await store.createMember("Ada");
    const m = await send(store, general, ada.id, "here");
    const elsewhere: Room = { ...general, id: general.id + 1000, slug: "elsewhere" };
    const now = Date.now();
    assert.deepEqual(await store.editMessage({ room: elsewhere, id: m.id, body: "x", now }), {
      ok: false,
      problem: "not_found",
    });
    assert.deepEqual(await store.deleteMessage({ room: general, id: m.id + 999, now }), {
      ok: false,
      problem: "not_found",
    });
    assert.equal(await store.getMessage(elsewhere, m.id), null);
    assert.equal((await store.getMessage(general, m.id))?.body, "here");
  });

  test(
    "replies carry at most 100 characters of the message they answer",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const long = await send(store, general, ada.id, "word ".repeat(60));
      const reply = await send(store, general, ada.id, "answer", long.id);
      assert.equal(reply.replyTo?.id, long.id);
      assert.ok([...reply.replyTo!.excerpt!].length <= 100);
      assert.ok(reply.replyTo!.excerpt!.endsWith("…"));
    },
  );

  test("a page around a message, with what lies on either side", async (store, general) => {
    const ada = await store.createMember("Ada");
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push((await send(store, general, ada.id, `m${i}`)).id);
    const middle = await store.listMessages(general, { around: ids[10], limit: 5 });
    assert.deepEqual(middle.messages.map((m) => m.id), ids.slice(8, 13));
    assert.equal(middle.hasOlder, true);
    assert.equal(middle.hasNewer, true);
    const start = await store.listMessages(general, { around: ids[1], limit: 5 });
    assert.deepEqual(start.messages.map((m) => m.id), ids.slice(0, 4));
    assert.equal(start.hasOlder, false);
    assert.equal(start.hasNewer, true);
    const end = await store.listMessages(general, { around: ids[19], limit: 5 });
    assert.deepEqual(end.messages.map((m) => m.id), ids.slice(17, 20));
    assert.equal(end.hasNewer, false);
    const latest = await store.listMessages(general, { latest: true, limit: 5 });
    assert.equal(latest.hasOlder, true);
    assert.equal((await store.listMessages(general, { before: ids[3], limit: 5 })).hasOlder, false);
  });

  test("a wait for changes wakes on an edit, a deletion and a reaction", async (store, general) => {
    const ada = await store.createMember("Ada");
    const m = await send(store, general, ada.id, "watch me");
    const changes = [
      () => store.editMessage({ room: general, id: m.id, body: "edited", now: Date.now() }),
      () =>
        store.react({
          room: general,
          id: m.id,
          memberId: ada.id,
          emoji: "👀",
          add: true,
          maxEmoji: 20,
        }),
      () => store.deleteMessage({ room: general, id: m.id, now: Date.now() }),
    ];
    for (const change of changes) {
      const { cursor } = await store.listMessages(general, { latest: true, limit: 1 });
      const waiter = store.waitForChange(general, cursor, { timeoutMs: 5000 });
      const started = Date.now();
      await change();
      assert.equal(await waiter.arrived, true);
      assert.ok(Date.now() - started < 2000, "woken by the change, not by the timeout");
    }
  });

  test("registers accounts: unique usernames, the first is the admin", async (store) => {
    const ada = await store.createMember("Ada");
    const bob = await store.createMember("Bob");
    const cat = await store.createMember("Cat");
    assert.equal(await store.countAccounts(), 0);
    assert.deepEqual(await store.registerAccount(newAccount("Ada", ada.id)), {
      ok: true,
      member: ada,
      account: { username: "Ada", isAdmin: true },
    });
    assert.deepEqual(await store.registerAccount(newAccount("bob_1", bob.id)), {
      ok: true,
      member: bob,
      account: { username: "bob_1", isAdmin: false },
    });
    assert.deepEqual(await store.registerAccount(newAccount("ADA", cat.id)), {
      ok: false,
      reason: "username_taken",
    }, "taken, any case");
    assert.deepEqual(await store.registerAccount(newAccount("another", ada.id)), {
      ok: false,
      reason: "already_registered",
    });
    assert.deepEqual(await store.registerAccount(newAccount("ghost", 999_999)), {
      ok: false,
      reason: "no_member",
    });
    assert.equal(await store.countAccounts(), 2);
    const found = await store.findCredentials("ada");
    assert.deepEqual(found, {
      member: ada,
      account: { username: "Ada", isAdmin: true },
      passwordHash: "hash-of-Ada",
    });
    assert.equal(await store.findCredentials("cat"), null);
    assert.equal(await store.getPasswordHash(cat.id), null, "a guest has no password");
    await store.setPasswordHash(ada.id, "new-hash");
    assert.equal(await store.getPasswordHash(ada.id), "new-hash");
    await store.setPasswordHash(cat.id, "ignored");
    assert.equal(await store.getPasswordHash(cat.id), null, "a guest gets no password this way");
  });

  test("sessions carry the account and can be ended one or all", async (store) => {
    const ada = await store.createMember("Ada");
    const guest = await store.createSession(ada.id, "g");
    assert.equal(guest.account, null);
    await store.registerAccount(newAccount("ada", ada.id));
    const one = await store.createSession(ada.id, "s1");
    const two = await store.createSession(ada.id, "s2");
    assert.deepEqual(one.account, { username: "ada", isAdmin: true });
    assert.deepEqual((await store.getSession("g"))?.account, { username: "ada", isAdmin: true });
    await store.deleteSession(one.id);
    assert.equal(await store.getSession("s1"), null);
    assert.equal(await store.deleteSessions(ada.id, two.id), 1, "all but the current one");
    assert.equal(await store.getSession("g"), null);
    assert.ok(await store.getSession("s2"));
    assert.equal(await store.deleteSessions(ada.id), 1);
    assert.equal(await store.getSession("s2"), null);
  });

  test("registering creates a member only when it succeeds", async (store) => {
    const made = await store.registerAccount({ ...newAccount("ada"), name: "Ada L." });
    assert.ok(made.ok);
    assert.equal(made.member.name, "Ada L.");
    assert.deepEqual(await store.getMember(made.member.id), made.member);
    assert.deepEqual(await store.registerAccount(newAccount("ADA")), {
      ok: false,
      reason: "username_taken",
    });
    assert.deepEqual(await store.searchMembers("ada", 10), [{ ...made.member, username: "ada" }]);
  });

  test("an invitation is used once, only by a registration that succeeds", async (store) => {
    const invite = (tokenHash: string | null) => ({ tokenHash, now: Date.now() });
    const first = await store.registerAccount({ ...newAccount("admin"), invite: invite(null) });
    assert.ok(first.ok, "the first account needs no invitation");
    assert.equal(first.account.isAdmin, true);
    const now = Date.now();
    const createdBy = first.member.id;
    await store.createInvite({ createdBy, tokenHash: "i1", expiresAt: now + 60_000 });
    await store.createInvite({ createdBy, tokenHash: "i2", expiresAt: now - 1 });
    const refused = (reason: string) => ({ ok: false, reason });
    assert.deepEqual(
      await store.registerAccount({ ...newAccount("ADMIN"), invite: invite("i1") }),
      refused("username_taken"),
    );
    assert.deepEqual(
      await store.registerAccount({ ...newAccount("nobody"), invite: invite(null) }),
      refused("invite_required"),
    );
    assert.deepEqual(
      await store.registerAccount({ ...newAccount("late"), invite: invite("i2") }),
      refused("invite_required"),
      "expired",
    );
    assert.deepEqual(
      await store.registerAccount({ ...newAccount("lost"), invite: invite("nope") }),
      refused("invite_required"),
    );
    const guest = await store.createMember("Guest");
    const used = await store.registerAccount({
      ...newAccount("ada", guest.id),
      invite: invite("i1"),
    });
    assert.ok(used.ok, "the failed attempt left the invitation unused");
    assert.deepEqual(used.member, guest);
    assert.equal(used.account.isAdmin, false);
    assert.deepEqual(
      await store.registerAccount({ ...newAccount("bob"), invite: invite("i1") }),
      refused("invite_required"),
      "used up",
    );
    assert.equal(await store.countAccounts(), 2);
    assert.deepEqual(
      (await store.searchMembers("", 10)).map((m) => m.name).sort(),
      ["Guest", "admin"],
      "refused registrations created no member",
    );
  });

  test("concurrent first registrations: exactly one succeeds without invitation", async (store) => {
    // Open the pool's connections first (PostgreSQL), so that the four really run at once.
    await Promise.all([1, 2, 3, 4].map(() => store.searchMembers("warm-up", 1)));
    const results = await Promise.all(
      ["a1", "a2", "a3", "a4"].map((username) =>
        store.registerAccount({ ...newAccount(username), invite: { tokenHash: null, now: 0 } })
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.deepEqual(
      results.filter((r) => !r.ok),
      Array(3).fill({ ok: false, reason: "invite_required" }),
    );
    assert.equal(await store.countAccounts(), 1);
    assert.equal((await store.searchMembers("", 10)).length, 1);
  });

  test("lists the names and usernames of accounts", async (store) => {
    const ada = await store.createMember("Ada");
    await store.createMember("A guest");
    const bob = await store.registerAccount({ ...newAccount("bob_b"), name: "Bob" });
    await store.registerAccount(newAccount("ada_l", ada.id));
    assert.deepEqual((await store.accountNames(0)).sort(), ["Ada", "Bob", "ada_l", "bob_b"]);
    assert.ok(bob.ok);
    assert.deepEqual((await store.accountNames(bob.member.id)).sort(), ["Ada", "ada_l"]);
  });

  test("sets a room's topic", async (store, general) => {
    const changed = await store.setRoomTopic(general.id, "Launch on Thursday");
    assert.deepEqual(changed, { ...general, topic: "Launch on Thursday" });
    assert.equal((await store.getRoom("general"))?.topic, "Launch on Thursday");
    assert.equal(await store.setRoomTopic(general.id + 1000, "nowhere"), null);
  });

  test("creates rooms with their creator as member; slugs are unique", async (store, general) => {
    assert.equal(general.kind, "public");
    const ada = await store.createMember("Ada");
    const room = await store.createRoom({
      slug: "design",
      name: "Design",
      topic: "Pixels",
      kind: "public",
      createdBy: ada.id,
    });
    assert.deepEqual(room && { ...room, id: 0 }, {
      id: 0,
      slug: "design",
      name: "Design",
      topic: "Pixels",
      kind: "public",
      ownerId: ada.id,
    });
    assert.deepEqual(await store.getRoom("design"), room);
    assert.equal(
      await store.createRoom({
        slug: "design",
        name: "x",
        topic: "",
        kind: "public",
        createdBy: ada.id,
      }),
      null,
    );
    assert.equal(await store.isRoomMember(room!.id, ada.id), true);
    assert.deepEqual(await store.listRoomMembers(room!.id), [ada]);
    const secret = await store.createRoom({
      slug: "secret",
      name: "Secret",
      topic: "",
      kind: "private",
      createdBy: ada.id,
    });
    assert.deepEqual(
      (await store.listPublicRooms({ limit: 10 })).map((r) => r.slug),
      ["design", "general"],
    );
    assert.equal(secret?.kind, "private");
  });

  test(
    "lists public rooms not joined, recently active first, capped, by name",
    async (store, general) => {
      const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
      const make = async (slug: string, name: string, kind: "public" | "private" = "public") =>
        (await store.createRoom({ slug, name, topic: "", kind, createdBy: ada.id }))!;
      const quiet = await make("quiet", "Quiet 100%_done");
      const busy = await make("busy", "Busy");
      await make("hidden", "Busy too", "private");
      const newest = await make("newest", "Newest");
      await store.addMessage({ room: busy, authorId: ada.id, body: "hi", clientId: "b" });
      await store.addMessage({ room: general, authorId: ada.id, body: "hi", clientId: "g" });
      const slugs = async (query: Parameters<Store["listPublicRooms"]>[0]) =>
        (await store.listPublicRooms(query)).map((r) => r.slug);
      assert.deepEqual(await slugs({ limit: 10 }), ["general", "busy", "newest", "quiet"]);
      assert.deepEqual(await slugs({ limit: 2 }), ["general", "busy"]);
      await store.addRoomMember(general.id, bob.id);
      await store.addRoomMember(newest.id, bob.id);
      assert.deepEqual(await slugs({ limit: 10, notJoinedBy: bob.id }), ["busy", "quiet"]);
      assert.deepEqual(await slugs({ limit: 10, notJoinedBy: ada.id }), ["general"]);
      assert.deepEqual(await slugs({ limit: 10, query: "BUS" }), ["busy"]);
      assert.deepEqual(await slugs({ limit: 10, query: "0%_" }), ["quiet"], "wildcards literal");
      assert.deepEqual(await slugs({ limit: 10, query: "%" }), ["quiet"]);
      assert.deepEqual(await slugs({ limit: 10, query: "e", notJoinedBy: bob.id }), ["quiet"]);
      assert.equal(quiet.kind, "public");
    },
  );

  test("direct rooms are found again by their key", async (store) => {
    const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
    const key = `${ada.id}:${bob.id}`;
    assert.equal(await store.getDirectRoom(key), null);
    const dm = await store.createRoom({
      slug: "dm-1",
      name: "",
      topic: "",
      kind: "direct",
      createdBy: ada.id,
      directKey: key,
    });
    await store.addRoomMember(dm!.id, bob.id);
    assert.deepEqual(await store.getDirectRoom(key), dm);
    const twice = await store.createRoom({
      slug: "dm-2",
      name: "",
      topic: "",
      kind: "direct",
      createdBy: bob.id,
      directKey: key,
    });
    assert.equal(twice, null, "one direct room per pair");
    const [mine] = await store.listMyRooms(ada.id, 100);
    assert.equal(mine.name, "Bob", "a direct room is named after the other person");
    const [theirs] = await store.listMyRooms(bob.id, 100);
    assert.equal(theirs.name, "Ada");
  });

  test("adding a member to a room wakes that member's room-list wait", async (store, general) => {
    const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
    const since = Date.now();
    const bobs = store.waitForChanges([], { timeoutMs: 5000, member: { id: bob.id, since } });
    const adas = store.waitForChanges([], { timeoutMs: 300, member: { id: ada.id, since } });
    const started = Date.now();
    await store.addRoomMember(general.id, bob.id);
    assert.equal(await bobs.arrived, true);
    assert.ok(Date.now() - started < 2000, "woken by the addition, not by the timeout");
    assert.equal(await adas.arrived, false, "someone else's addition does not wake Ada");

    // An addition after the rooms were read but before the wait started is not missed…
    const readAt = Date.now();
    const room = await store.createRoom({
      slug: "added-later",
      name: "Added later",
      topic: "",
      kind: "private",
      createdBy: ada.id,
    });
    await store.addRoomMember(room!.id, bob.id);
    const late = store.waitForChanges([], {
      timeoutMs: 5000,
      member: { id: bob.id, since: readAt },
    });
    assert.equal(await late.arrived, true);
    // …and one already in a room wakes nobody.
    const again = store.waitForChanges([], {
      timeoutMs: 300,
      member: { id: bob.id, since: Date.now() + 5 },
    });
    await store.addRoomMember(room!.id, bob.id);
    assert.equal(await again.arrived, false, "no addition: already a member");
  });

  test("unread counts per member follow the read cursor", async (store, general) => {
    const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
    await store.addRoomMember(general.id, ada.id);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { message } = await store.addMessage({
        room: general,
        authorId: bob.id,
        body: `m${i}`,
        clientId: `u${i}`,
      });
      ids.push(message.id);
    }
    await store.addRoomMember(general.id, bob.id);
    const unread = async (memberId: number) =>
      (await store.listMyRooms(memberId, 100)).find((r) => r.slug === "general")?.unread;
    assert.equal(await unread(ada.id), 5);
    assert.equal(await unread(bob.id), 0, "joining starts at the newest message");
    assert.equal((await store.listMyRooms(ada.id, 3))[0].unread, 3, "capped");
    await store.markRead(general.id, ada.id, ids[2]);
    assert.equal(await unread(ada.id), 2);
    await store.markRead(general.id, ada.id, ids[0]);
    assert.equal(await unread(ada.id), 2, "the cursor never moves back");
    await store.addRoomMember(general.id, ada.id);
    assert.equal(await unread(ada.id), 2, "joining again changes nothing");
    assert.equal(await store.removeRoomMember(general.id, ada.id), true);
    assert.equal(await store.removeRoomMember(general.id, ada.id), false);
    assert.equal(await unread(ada.id), undefined);
    assert.equal(await store.isRoomMember(general.id, ada.id), false);
    // One's own messages are never unread; deleted ones are not either.
    const { message: own } = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "mine",
      clientId: "own",
    });
    assert.equal(await unread(bob.id), 0, "one's own message is not unread");
    await store.addRoomMember(general.id, ada.id);
    const { message: gone } = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "oops",
      clientId: "gone",
    });
    assert.equal(await unread(ada.id), 1);
    await store.deleteMessage({ room: general, id: gone.id, now: Date.now() });
    assert.equal(await unread(ada.id), 0, "a deleted message is not unread");
    assert.ok(own.id < gone.id);
  });

  test(
    "messages keep their mentions; edits replace them, deletions erase them",
    async (store, general) => {
      const [ada, bob, cat] = [
        await store.createMember("Ada"),
        await store.createMember("Bob"),
        await store.createMember("Cat"),
      ];
      const { message } = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: "hi @bob @cat",
        clientId: "m1",
        mentions: [cat.id, bob.id, cat.id],
      });
      assert.deepEqual(message.mentions, [bob.id, cat.id], "distinct, ascending");
      const plain = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: "hi",
        clientId: "m2",
      });
      assert.deepEqual(plain.message.mentions, []);
      const read = async () => (await store.getMessage(general, message.id))?.mentions;
      assert.deepEqual(await read(), [bob.id, cat.id]);
      const again = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: "hi @bob @cat",
        clientId: "m1",
        mentions: [ada.id],
      });
      assert.deepEqual(again.message.mentions, [bob.id, cat.id], "a retry changes nothing");
      const edited = await store.editMessage({
        room: general,
        id: message.id,
        body: "hi @bob",
        now: Date.now(),
        mentions: [bob.id],
      });
      assert.ok(edited.ok);
      assert.deepEqual(edited.message.mentions, [bob.id]);
      const page = await store.listMessages(general, { since: 0, limit: 10 });
      assert.deepEqual(page.messages.map((m) => m.mentions), [[], [bob.id]]);
      const deleted = await store.deleteMessage({ room: general, id: message.id, now: Date.now() });
      assert.ok(deleted.ok);
      assert.deepEqual(deleted.message.mentions, []);
      assert.deepEqual(await read(), []);
    },
  );

  test("mention counts: unread messages that mention the member", async (store, general) => {
    const [ada, bob] = [await store.createMember("Ada"), await store.createMember("Bob")];
    await store.addRoomMember(general.id, ada.id);
    await store.addRoomMember(general.id, bob.id);
    const counts = async () => {
      const room = (await store.listMyRooms(ada.id, 100)).find((r) => r.slug === "general")!;
      return [room.unread, room.mentions];
    };
    assert.deepEqual(await counts(), [0, 0]);
    const say = (body: string, clientId: string, mentions: number[] = []) =>
      store.addMessage({ room: general, authorId: bob.id, body, clientId, mentions })
        .then((r) => r.message);
    const first = await say("@ada one", "a", [ada.id]);
    await say("not you", "b");
    const third = await say("@ada three", "c", [ada.id]);
    await say("@bob", "d", [bob.id]);
    assert.deepEqual(await counts(), [4, 2]);
    assert.equal((await store.listMyRooms(ada.id, 1))[0].mentions, 1, "capped");
    await store.markRead(general.id, ada.id, first.id);
    assert.deepEqual(await counts(), [3, 1], "read mentions do not count");
    await store.editMessage({ room: general, id: third.id, body: "three", now: Date.now() });
    assert.deepEqual(await counts(), [3, 0], "an edit that drops the mention");
    await store.editMessage({
      room: general,
      id: third.id,
      body: "@ada",
      now: Date.now(),
      mentions: [ada.id],
    });
    assert.deepEqual(await counts(), [3, 1]);
    await store.deleteMessage({ room: general, id: third.id, now: Date.now() });
    assert.deepEqual(await counts(), [2, 0], "a deleted message mentions nobody");
    const bobRooms = await store.listMyRooms(bob.id, 100);
    assert.equal(bobRooms[0].mentions, 0, "one's own messages are never unread");
  });

  test("finds accounts by username and the accounts of a room", async (store, general) => {
    const guest = await store.createMember("Guest Ada");
    const ada = await store.registerAccount({ ...newAccount("ada"), name: "Ada Lovelace" });
    const bob = await store.registerAccount({ ...newAccount("Bob_1"), name: "Bob" });
    const cat = await store.registerAccount({ ...newAccount("cat"), name: "Cat" });
    assert.ok(ada.ok && bob.ok && cat.ok);
    const found = await store.findAccounts(["bob_1", "ada", "nobody"]);
    assert.deepEqual(
      found.sort((a, b) => a.id - b.id),
      [{ ...ada.member, username: "ada" }, { ...bob.member, username: "Bob_1" }],
    );
    assert.deepEqual(await store.findAccounts([]), []);
    for (const m of [guest, ada.member, bob.member]) await store.addRoomMember(general.id, m.id);
    const names = (q: string, options?: { authorsOnly?: boolean }) =>
      store.searchRoomAccounts(general.id, q, 10, options).then((ms) => ms.map((m) => m.name));
    assert.deepEqual(await names(""), ["Ada Lovelace", "Bob"], "accounts of the room only");
    assert.deepEqual(await names("LOVE"), ["Ada Lovelace"], "by name");
    assert.deepEqual(await names("b_1"), ["Bob"], "by username, _ taken literally");
    assert.deepEqual(await names("", { authorsOnly: true }), []);
    await store.addMessage({ room: general, authorId: bob.member.id, body: "hi", clientId: "x" });
    assert.deepEqual(await names("", { authorsOnly: true }), ["Bob"]);
    assert.equal((await store.searchRoomAccounts(general.id, "", 1)).length, 1);
  });

  test("finds members by name or username, wildcards taken literally", async (store) => {
    const ada = await store.createMember("Ada Lovelace");
    const bob = await store.createMember("Bob");
    await store.createMember("100% real_name");
    await store.registerAccount(newAccount("Builder", bob.id));
    assert.deepEqual(await store.searchMembers("love", 10), [{ ...ada, username: null }]);
    assert.deepEqual(await store.searchMembers("BUILD", 10), [{ ...bob, username: "Builder" }]);
    assert.deepEqual((await store.searchMembers("%", 10)).map((m) => m.name), ["100% real_name"]);
    assert.deepEqual((await store.searchMembers("_", 10)).map((m) => m.name), ["100% real_name"]);
    assert.equal((await store.searchMembers("a", 1)).length, 1);
  });

  test(
    "finds only members sharing a room, when asked, not counting one room",
    async (store, general) => {
      const [ada, bob, cat] = [
        await store.createMember("Ada"),
        await store.createMember("Bob"),
        await store.createMember("Cat"),
      ];
      for (const m of [ada, bob, cat]) await store.addRoomMember(general.id, m.id);
      const room = await store.createRoom({
        slug: "shared",
        name: "shared",
        topic: "",
        kind: "private",
        createdBy: ada.id,
      });
      await store.addRoomMember(room!.id, bob.id);
      const found = (memberId: number) =>
        store.searchMembers("", 10, { sharingRoomWith: memberId, exceptRoomId: general.id })
          .then((members) => members.map((m) => m.name));
      assert.deepEqual(await found(bob.id), ["Ada", "Bob"]);
      assert.deepEqual(await found(cat.id), [], "general does not count");
      assert.deepEqual(
        (await store.searchMembers("", 10, { sharingRoomWith: cat.id })).map((m) => m.name),
        ["Ada", "Bob", "Cat"],
      );
    },
  );

  test("messages carry the author's username, null for a guest", async (store, general) => {
    const guest = await store.createMember("Guest");
    const made = await store.registerAccount({ ...newAccount("ada"), name: "Ada" });
    assert.ok(made.ok);
    const { message } = await store.addMessage({
      room: general,
      authorId: made.member.id,
      body: "hi",
      clientId: "c1",
    });
    assert.deepEqual(message.author, { id: made.member.id, name: "Ada", username: "ada" });
    await store.addMessage({ room: general, authorId: guest.id, body: "yo", clientId: "c2" });
    const listed = (await store.listMessages(general, { latest: true, limit: 10 })).messages;
    assert.deepEqual(listed.map((m) => m.author.username), ["ada", null]);
    const after = (await store.listMessages(general, { after: 0, limit: 10 })).messages;
    assert.deepEqual(after.map((m) => m.author.username), ["ada", null]);
  });

  test(
    "prunes idle sessions, expired invitations and forgotten guests, and nothing else",
    async (store, general) => {
      const DAY = 24 * 3600_000;
      const keep = { sessionIdleMs: 30 * DAY, guestRetentionMs: 30 * DAY };
      const later = Date.now() + 31 * DAY; // the fake clock, a month on
      const made = await store.registerAccount(newAccount("admin"));
      assert.ok(made.ok);
      const admin = made.member;
      await store.createSession(admin.id, "admin-idle");
      const adminLive = await store.createSession(admin.id, "admin-live");
      await store.touchSession(adminLive.id, later - DAY);
      await store.createInvite({ createdBy: admin.id, tokenHash: "i-old", expiresAt: later - DAY });
      await store.createInvite({ createdBy: admin.id, tokenHash: "i-new", expiresAt: later + DAY });

      const forgotten = await store.createMember("Forgotten guest");
      await store.addRoomMember(general.id, forgotten.id);
      await store.createSession(forgotten.id, "forgotten");
      const noSession = await store.createMember("Guest without a session");
      const talker = await store.createMember("Guest who wrote");
      await store.createSession(talker.id, "talker");
      await store.addMessage({ room: general, authorId: talker.id, body: "hi", clientId: "c" });
      const returning = await store.createMember("Guest who came back");
      const back = await store.createSession(returning.id, "returning");
      await store.touchSession(back.id, later - DAY);
      const founder = await store.createMember("Guest who made a room");
      await store.createRoom({
        slug: "den",
        name: "den",
        topic: "",
        kind: "public",
        createdBy: founder.id,
      });

      const early = await store.pruneStale({ now: Date.now() + DAY, ...keep });
      assert.deepEqual(
        early,
        { sessions: 0, invites: 0, guests: 0, files: 0 },
        "nothing is due yet",
      );

      const pruned = await store.pruneStale({ now: later, ...keep });
      assert.deepEqual(pruned, { sessions: 3, invites: 1, guests: 2, files: 0 });
      assert.equal(await store.getSession("admin-idle"), null);
      assert.equal(await store.getSession("forgotten"), null);
      assert.equal(await store.getSession("talker"), null);
      assert.ok(await store.getSession("admin-live"));
      assert.ok(await store.getSession("returning"));
      assert.equal(await store.getMember(forgotten.id), null);
      assert.equal(await store.getMember(noSession.id), null);
      assert.equal(await store.isRoomMember(general.id, forgotten.id), false);
      for (const kept of [admin, talker, returning, founder]) {
        assert.ok(await store.getMember(kept.id), `${kept.name} is kept`);
      }
      assert.deepEqual(
        (await store.listMessages(general, { latest: true, limit: 5 })).messages.map((m) => m.body),
        ["hi"],
      );
      const other = await store.registerAccount({
        ...newAccount("friend"),
        invite: { tokenHash: "i-new", now: later },
      });
      assert.ok(other.ok, "the invitation not yet expired is kept");
      assert.deepEqual(await store.pruneStale({ now: later, ...keep }), {
        sessions: 0,
        invites: 0,
        guests: 0,
        files: 0,
      });
    },
  );
}
