// The search contract: the same message-search tests for every Store implementation.
import assert from "node:assert/strict";
import type { Member, Room, SearchQuery, Store } from "../db/store.ts";

/** A store with three members, the public `general`, a private room and a direct room. */
interface World {
  store: Store;
  general: Room;
  /** Private: Ada and Cy are members, Bob is not. */
  secret: Room;
  /** Direct: Ada and Bob. */
  direct: Room;
  ada: Member;
  bob: Member;
  cy: Member;
  /** Posts `body` as `author` in `room`; returns the message id. */
  post(room: Room, author: Member, body: string): Promise<number>;
  /** The ids found for `reader` (Ada unless said), newest first. */
  find(query: Partial<SearchQuery> & { reader?: Member }): Promise<number[]>;
}

/** Registers the search contract tests for a store opened by `open` (fresh each time). */
export function searchContract(
  name: string,
  open: () => Promise<Store>,
  options: { ignore?: boolean } = {},
): void {
  function test(title: string, fn: (world: World) => Promise<void>) {
    Deno.test({
      name: `${name} store search: ${title}`,
      ignore: options.ignore,
      fn: async () => {
        const store = await open();
        try {
          await fn(await world(store));
        } finally {
          await store.close();
        }
      },
    });
  }

  async function world(store: Store): Promise<World> {
    const general = (await store.getRoom("general"))!;
    const [ada, bob, cy] = [
      await store.createMember("Ada"),
      await store.createMember("Bob"),
      await store.createMember("Cy"),
    ];
    const secret = (await store.createRoom({
      slug: "secret",
      name: "secret",
      topic: "",
      kind: "private",
      createdBy: ada.id,
    }))!;
    await store.addRoomMember(secret.id, cy.id);
    const direct = (await store.createRoom({
      slug: `dm-${ada.id}-${bob.id}`,
      name: "",
      topic: "",
      kind: "direct",
      createdBy: ada.id,
      directKey: `${ada.id}:${bob.id}`,
    }))!;
    await store.addRoomMember(direct.id, bob.id);
    let sent = 0;
    return {
      store,
      general,
      secret,
      direct,
      ada,
      bob,
      cy,
      async post(room, author, body) {
        const { message } = await store.addMessage({
          room,
          authorId: author.id,
          body,
          clientId: `c${++sent}`,
        });
        return message.id;
      },
      async find(query) {
        const found = await store.searchMessages({
          readerId: (query.reader ?? ada).id,
          words: query.words ?? [],
          phrases: query.phrases ?? [],
          roomId: query.roomId,
          authorId: query.authorId,
          before: query.before,
          limit: query.limit ?? 50,
        });
        return found.map((message) => message.id);
      },
    };
  }

  test("finds a word by its start, in any case, accents ignored", async (w) => {
    const deploy = await w.post(w.general, w.ada, "Deploying the new build tonight");
    const cafe = await w.post(w.general, w.bob, "Meet at the Café du Monde");
    const plain = await w.post(w.general, w.bob, "no CAFE today, sorry");
    await w.post(w.general, w.bob, "nothing to see here");
    assert.deepEqual(await w.find({ words: ["deplo"] }), [deploy]);
    assert.deepEqual(await w.find({ words: ["DEPLOYING"] }), [deploy]);
    assert.deepEqual(await w.find({ words: ["ploy"] }), [], "only the start of a word");
    assert.deepEqual(await w.find({ words: ["cafe"] }), [plain, cafe]);
    assert.deepEqual(await w.find({ words: ["Café"] }), [plain, cafe]);
    assert.deepEqual(await w.find({ words: ["monde"] }), [cafe]);
    assert.deepEqual(await w.find({ words: ["zebra"] }), []);
  });

  test("a message is found whole: room, author and text", async (w) => {
    const id = await w.post(w.general, w.bob, "the release notes are ready");
    const [message] = await w.store.searchMessages({
      readerId: w.ada.id,
      words: ["release"],
      phrases: [],
      limit: 5,
    });
    assert.equal(message.id, id);
    assert.equal(message.room, "general");
    assert.equal(message.body, "the release notes are ready");
    assert.deepEqual(message.author, { id: w.bob.id, name: "Bob", username: null });
    assert.equal(message.deleted, false);
  });

  test("every word must match, in any order", async (w) => {
    const both = await w.post(w.general, w.ada, "the database migration failed");
    const reversed = await w.post(w.general, w.ada, "migration of the database: done");
    await w.post(w.general, w.ada, "the database is fine");
    await w.post(w.general, w.ada, "another migration");
    assert.deepEqual(await w.find({ words: ["database", "migration"] }), [reversed, both]);
    assert.deepEqual(await w.find({ words: ["datab", "migr", "fail"] }), [both]);
    assert.deepEqual(await w.find({ words: ["database", "zebra"] }), []);
  });

  test("a phrase matches its words next to each other, in order", async (w) => {
    const adjacent = await w.post(w.general, w.ada, "The quick brown fox jumps");
    const apart = await w.post(w.general, w.ada, "brown and quick are colours of a fox");
    const reversed = await w.post(w.general, w.ada, "a brown quick dog");
    assert.deepEqual(await w.find({ phrases: ["quick brown"] }), [adjacent]);
    assert.deepEqual(await w.find({ phrases: ["brown quick"] }), [reversed]);
    assert.deepEqual(await w.find({ words: ["quick", "brown"] }), [reversed, apart, adjacent]);
    assert.deepEqual(await w.find({ phrases: ["quick fox"] }), [], "not when words are between");
    assert.deepEqual(await w.find({ phrases: ["QUICK Brown"], words: ["jump"] }), [adjacent]);
    assert.deepEqual(await w.find({ phrases: ["quick bro"] }), [], "a phrase's words are whole");
  });

  test("words of scripts without spaces match inside the text", async (w) => {
    const room = await w.post(w.general, w.ada, "明日の会議室で話しましょう");
    const meeting = await w.post(w.general, w.bob, "会議は中止です");
    const chinese = await w.post(w.general, w.bob, "我们明天开会讨论预算");
    const mixed = await w.post(w.general, w.bob, "会議室 deploy after lunch");
    await w.post(w.general, w.bob, "今日は晴れ");
    assert.deepEqual(await w.find({ words: ["会議"] }), [mixed, meeting, room], "two characters");
    assert.deepEqual(await w.find({ words: ["会議室"] }), [mixed, room], "three characters");
    assert.deepEqual(await w.find({ words: ["会議室で話し"] }), [room]);
    assert.deepEqual(await w.find({ words: ["議"] }), [mixed, meeting, room], "one character");
    assert.deepEqual(await w.find({ words: ["开会讨论"] }), [chinese]);
    assert.deepEqual(await w.find({ words: ["明天"] }), [chinese]);
    assert.deepEqual(await w.find({ words: ["会議室", "deplo"] }), [mixed]);
    assert.deepEqual(await w.find({ words: ["会議", "deplo"] }), [mixed]);
    assert.deepEqual(await w.find({ words: ["会議", "中止"] }), [meeting]);
    assert.deepEqual(await w.find({ words: ["会議室", "中止"] }), []);
    assert.deepEqual(await w.find({ words: ["会議中"] }), []);
  });

  test("private and direct rooms are searched by their members only", async (w) => {
    const open = await w.post(w.general, w.bob, "budget draft for everyone");
    const hidden = await w.post(w.secret, w.ada, "budget secret numbers");
    const dm = await w.post(w.direct, w.bob, "budget between us");
    assert.deepEqual(await w.find({ words: ["budget"] }), [dm, hidden, open], "Ada is in all");
    assert.deepEqual(await w.find({ words: ["budget"], reader: w.bob }), [dm, open]);
    assert.deepEqual(await w.find({ words: ["budget"], reader: w.cy }), [hidden, open]);
    assert.deepEqual(
      await w.find({ words: ["secret"], reader: w.bob, roomId: w.secret.id }),
      [],
      "not even when asking for the room",
    );
    await w.store.removeRoomMember(w.secret.id, w.cy.id);
    assert.deepEqual(await w.find({ words: ["budget"], reader: w.cy }), [open], "left the room");
    const stranger = await w.store.createMember("Dee");
    assert.deepEqual(await w.find({ words: ["budget"], reader: stranger }), [open]);
  });

  test("deleted messages are not found; edited ones by their new text only", async (w) => {
    const gone = await w.post(w.general, w.ada, "the launch code is 1234 明日の会議");
    const edited = await w.post(w.general, w.ada, "see you at noon");
    const kept = await w.post(w.general, w.bob, "launch party at noon");
    const deleted = await w.store.deleteMessage({ room: w.general, id: gone, now: Date.now() });
    assert.ok(deleted.ok && deleted.changed);
    assert.deepEqual(await w.find({ words: ["launch"] }), [kept]);
    assert.deepEqual(await w.find({ words: ["1234"] }), []);
    assert.deepEqual(await w.find({ words: ["明日の会議"] }), []);
    assert.deepEqual(await w.find({ words: ["会議"] }), []);
    const change = await w.store.editMessage({
      room: w.general,
      id: edited,
      body: "see you at midnight in the 会議室",
      now: Date.now(),
    });
    assert.ok(change.ok);
    assert.deepEqual(await w.find({ words: ["midnight"] }), [edited]);
    assert.deepEqual(await w.find({ words: ["noon"] }), [kept], "not by the old text");
    assert.deepEqual(await w.find({ words: ["会議室"] }), [edited]);
    assert.deepEqual(await w.find({ words: ["会議"] }), [edited]);
    const again = await w.store.editMessage({
      room: w.general,
      id: edited,
      body: "plain text now",
      now: Date.now(),
    });
    assert.ok(again.ok);
    assert.deepEqual(await w.find({ words: ["会議室"] }), []);
    assert.deepEqual(await w.find({ words: ["plain"] }), [edited]);
  });

  test("filters by room and by author", async (w) => {
    const a1 = await w.post(w.general, w.ada, "standup notes monday");
    const b1 = await w.post(w.general, w.bob, "standup notes tuesday");
    const a2 = await w.post(w.secret, w.ada, "standup notes private");
    const c1 = await w.post(w.secret, w.cy, "standup notes from cy");
    assert.deepEqual(await w.find({ words: ["standup"], roomId: w.general.id }), [b1, a1]);
    assert.deepEqual(await w.find({ words: ["standup"], roomId: w.secret.id }), [c1, a2]);
    assert.deepEqual(await w.find({ words: ["standup"], authorId: w.ada.id }), [a2, a1]);
    assert.deepEqual(
      await w.find({ words: ["standup"], authorId: w.cy.id, roomId: w.general.id }),
      [],
    );
    assert.deepEqual(await w.find({ words: ["notes"], authorId: w.bob.id }), [b1]);
  });

  test("pages with before and limit: every match once, newest first", async (w) => {
    const matching: number[] = [];
    for (let i = 0; i < 11; i++) {
      const room = [w.general, w.secret, w.direct][i % 3];
      matching.push(await w.post(room, i % 2 ? w.ada : w.bob, `incident report ${i} 障害報告`));
      await w.post(w.general, w.ada, `unrelated chatter ${i}`);
    }
    const newestFirst = [...matching].reverse();
    for (const query of [{ words: ["incid"] }, { words: ["障害報告"] }, { words: ["報告"] }]) {
      const pages: number[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await w.find({ ...query, before, limit: 4 });
        if (page.length === 0) break;
        pages.push(page);
        before = page[page.length - 1];
      }
      assert.deepEqual(pages.map((p) => p.length), [4, 4, 3]);
      assert.deepEqual(pages.flat(), newestFirst, JSON.stringify(query));
    }
    assert.deepEqual(await w.find({ words: ["incident"], limit: 2 }), newestFirst.slice(0, 2));
    assert.deepEqual(await w.find({ words: ["incident"], before: matching[0] }), []);
  });

  test("query syntax characters are only text", async (w) => {
    const ops = await w.post(w.general, w.ada, 'use OR and NEAR, or AND NOT: "quoted" (x-y) *');
    const deploy = await w.post(w.general, w.bob, "deploy: step-by-step");
    const hostile = [
      '"',
      '""',
      "*",
      "-",
      ":",
      "(",
      ")",
      "^",
      "+",
      "NEAR",
      "NEAR(",
      "OR",
      "AND",
      "NOT",
      "deploy*",
      "-deploy",
      "body:deploy",
      'a"b',
      "'",
      "\\",
      "!",
      "&",
      "|",
      "<->",
      "%",
      "_",
      "{}",
      "deploy:*",
    ];
    for (const word of hostile) {
      await w.find({ words: [word] });
      await w.find({ phrases: [`${word} step`] });
    }
    assert.deepEqual(await w.find({ words: ["NEAR"] }), [ops]);
    assert.deepEqual(await w.find({ words: ["or"] }), [ops]);
    assert.deepEqual(await w.find({ words: ["OR", "NOT"] }), [ops]);
    assert.deepEqual(await w.find({ words: ["NEAR("] }), [ops]);
    assert.deepEqual(await w.find({ words: ["deploy*"] }), [deploy]);
    assert.deepEqual(await w.find({ words: ["-deploy"] }), [deploy]);
    assert.deepEqual(await w.find({ words: ["deploy:*"] }), [deploy]);
    assert.deepEqual(await w.find({ words: ["step-by"] }), [deploy], "a word with inner marks");
    assert.deepEqual(await w.find({ phrases: ["step by step"] }), [deploy]);
    assert.deepEqual(await w.find({ phrases: ['"quoted" (x'] }), [ops]);
    assert.deepEqual(await w.find({ words: ["*"] }), [], "punctuation alone finds nothing");
    assert.deepEqual(await w.find({ words: ['"'] }), []);
    assert.deepEqual(await w.find({ words: ["%"] }), []);
    assert.deepEqual(await w.find({ words: ["_"] }), []);
  });
}
