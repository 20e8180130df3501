// The file contract: uploads, attachments, previews, deletion and pruning, the same on every store.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  AttachmentError,
  FileTooLargeError,
  type NewFile,
  type Room,
  type Store,
  type StoredFile,
} from "../db/store.ts";

/** What a test counts in a store's own tables and storage (not through the Store interface). */
export interface StoredCounts {
  /** Rows in `files`. */
  files: number;
  /** Rows in `blobs`. */
  blobs: number;
  /** Contents holding bytes: files on disk (temporary ones too), or chunked keys. */
  contents: number;
}

const DAY = 24 * 3600_000;
/** More than two chunks of PostgreSQL's 256 KiB, and not a multiple of one. */
const BIG = 600 * 1024 + 123;
const CHUNK = 256 * 1024;

/** `size` bytes of a pattern depending on `seed` (different seeds, different bytes). */
function pattern(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed * 13 + (i >> 11)) % 251;
  return bytes;
}

/** The bytes, in pieces of `piece` bytes (as an upload arrives). */
async function* pieces(bytes: Uint8Array, piece = 100_000): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += piece) {
    await Promise.resolve();
    yield bytes.slice(i, i + piece);
  }
}

/** Everything a stream gives, in one array. */
async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array | null> {
  if (!stream) return null;
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Registers the file contract tests for a store opened by `open` (fresh and empty each time);
 * `counts` looks into its tables and storage.
 */
export function fileContract(
  name: string,
  open: () => Promise<Store>,
  counts: (store: Store) => Promise<StoredCounts>,
  options: { ignore?: boolean } = {},
): void {
  function test(title: string, fn: (store: Store, general: Room) => Promise<void>) {
    Deno.test({
      name: `${name} store files: ${title}`,
      ignore: options.ignore,
      fn: async () => {
        const store = await open();
        try {
          await fn(store, (await store.getRoom("general"))!);
        } finally {
          await store.close();
        }
      },
    });
  }

  /** Uploads `bytes` as `name` to `room` by `uploaderId`. */
  function upload(
    store: Store,
    input: Partial<NewFile> & { roomId: number; uploaderId: number; bytes: Uint8Array },
  ): Promise<StoredFile> {
    return store.addFile({
      name: "notes.txt",
      type: "text/plain",
      width: null,
      height: null,
      maxBytes: 10 * 1024 * 1024,
      now: Date.now(),
      content: pieces(input.bytes),
      ...input,
    });
  }

  test("keeps an upload and reads it back whole and by ranges", async (store, general) => {
    const ada = await store.createMember("Ada");
    const bytes = pattern(BIG);
    const now = Date.now();
    const file = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes,
      name: "Plan d'été 2.png",
      type: "image/png",
      width: 640,
      height: 480,
      now,
    });
    assert.match(file.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(file, {
      id: file.id,
      name: "Plan d'été 2.png",
      size: BIG,
      type: "image/png",
      url: `/files/${file.id}/Plan%20d'%C3%A9t%C3%A9%202.png`,
      width: 640,
      height: 480,
      preview: null,
      roomId: general.id,
      uploaderId: ada.id,
      messageId: null,
      sha256: sha256(bytes),
      previewSha256: null,
      createdAt: now,
    });
    assert.deepEqual(await store.getFile(file.id), file);
    assert.equal(await store.getFile("no-such-file"), null);
    assert.deepEqual(await readAll(await store.readContent(file.sha256)), bytes);
    const ranges = [
      [0, 0],
      [1000, 1999],
      [BIG - 1, BIG - 1],
      [CHUNK - 10, CHUNK + 10],
      [CHUNK - 1, 2 * CHUNK],
      [CHUNK, 2 * CHUNK - 1],
      [5, BIG - 1],
      [0, BIG - 1],
    ];
    for (const [start, end] of ranges) {
      assert.deepEqual(
        await readAll(await store.readContent(file.sha256, { start, end })),
        bytes.slice(start, end + 1),
        `bytes ${start}-${end}`,
      );
    }
    assert.equal(await store.readContent(sha256(pattern(10))), null, "unknown content");
    assert.equal(await store.readContent("../../etc/passwd"), null, "not a content key");
    assert.deepEqual(await counts(store), { files: 1, blobs: 1, contents: 1 });
  });

  test("refuses a file over the limit and keeps nothing of it", async (store, general) => {
    const ada = await store.createMember("Ada");
    const bytes = pattern(3000);
    await assert.rejects(
      () => upload(store, { roomId: general.id, uploaderId: ada.id, bytes, maxBytes: 2999 }),
      (error) => error instanceof FileTooLargeError && error.maxBytes === 2999,
    );
    assert.deepEqual(await counts(store), { files: 0, blobs: 0, contents: 0 });
    assert.equal(await store.readContent(sha256(bytes)), null);
    const exact = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes,
      maxBytes: 3000,
    });
    assert.equal(exact.size, 3000, "exactly the limit is allowed");
    // Over the limit with bytes already stored under that content: those stay.
    await assert.rejects(
      () => upload(store, { roomId: general.id, uploaderId: ada.id, bytes, maxBytes: 100 }),
      FileTooLargeError,
    );
    assert.deepEqual(await counts(store), { files: 1, blobs: 1, contents: 1 });
    assert.deepEqual(await readAll(await store.readContent(exact.sha256)), bytes);
  });

  test("keeps the same bytes once, until no file has them", async (store, general) => {
    const ada = await store.createMember("Ada");
    const bob = await store.createMember("Bob");
    const bytes = pattern(BIG, 2);
    const first = await upload(store, { roomId: general.id, uploaderId: ada.id, bytes });
    const second = await upload(store, {
      roomId: general.id,
      uploaderId: bob.id,
      bytes,
      name: "copy.txt",
    });
    assert.notEqual(first.id, second.id);
    assert.equal(first.sha256, second.sha256);
    assert.deepEqual(await counts(store), { files: 2, blobs: 1, contents: 1 });
    const one = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "one",
      clientId: "1",
      attachments: [first.id],
    });
    const two = await store.addMessage({
      room: general,
      authorId: bob.id,
      body: "two",
      clientId: "2",
      attachments: [second.id],
    });
    await store.deleteMessage({ room: general, id: one.message.id, now: Date.now() });
    assert.equal(await store.getFile(first.id), null);
    assert.deepEqual(await readAll(await store.readContent(second.sha256)), bytes, "still had");
    assert.deepEqual(await counts(store), { files: 1, blobs: 1, contents: 1 });
    await store.deleteMessage({ room: general, id: two.message.id, now: Date.now() });
    assert.equal(await store.readContent(second.sha256), null, "gone with the last file");
    assert.deepEqual(await counts(store), { files: 0, blobs: 0, contents: 0 });
  });

  test(
    "bytes shared with a preview survive deleting the file that had them",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const small = pattern(5000, 3);
      const plain = await upload(store, { roomId: general.id, uploaderId: ada.id, bytes: small });
      const photo = await upload(store, {
        roomId: general.id,
        uploaderId: ada.id,
        bytes: pattern(BIG, 4),
        name: "photo.jpg",
        type: "image/jpeg",
        width: 4000,
        height: 3000,
      });
      const withPreview = await store.setFilePreview({
        fileId: photo.id,
        type: "image/webp",
        width: 1280,
        height: 960,
        content: pieces(small, 1000),
        maxBytes: 512 * 1024,
      });
      assert.equal(withPreview?.previewSha256, plain.sha256);
      assert.deepEqual(await counts(store), { files: 2, blobs: 2, contents: 2 });
      const { message } = await store.addMessage({
        room: general,
        authorId: ada.id,
        body: "",
        clientId: "p",
        attachments: [plain.id],
      });
      await store.deleteMessage({ room: general, id: message.id, now: Date.now() });
      assert.deepEqual(await readAll(await store.readContent(plain.sha256)), small);
      assert.deepEqual(await counts(store), { files: 1, blobs: 2, contents: 2 });
    },
  );

  test(
    "attaches only the author's unattached uploads to the room, or nothing",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      const bob = await store.createMember("Bob");
      const den = (await store.createRoom({
        slug: "den",
        name: "den",
        topic: "",
        kind: "public",
        createdBy: ada.id,
      }))!;
      const mine = (n: number) =>
        upload(store, { roomId: general.id, uploaderId: ada.id, bytes: pattern(100, n) });
      const [f1, f2, f3] = [await mine(1), await mine(2), await mine(3)];
      const elsewhere = await upload(store, {
        roomId: den.id,
        uploaderId: ada.id,
        bytes: pattern(10),
      });
      const bobs = await upload(store, {
        roomId: general.id,
        uploaderId: bob.id,
        bytes: pattern(11),
      });
      const send = (clientId: string, attachments: string[]) =>
        store.addMessage({ room: general, authorId: ada.id, body: "see", clientId, attachments });
      const refused = async (attachments: string[], fileId: string) => {
        await assert.rejects(
          () => send(`refused-${fileId}`, attachments),
          (error) => error instanceof AttachmentError && error.fileId === fileId,
        );
        assert.equal(await store.findSent(ada.id, `refused-${fileId}`), null, "no message stored");
      };
      await refused([elsewhere.id], elsewhere.id);
      await refused([bobs.id], bobs.id);
      await refused(["no-such-file"], "no-such-file");
      await refused([f1.id, bobs.id], bobs.id);
      assert.equal((await store.getFile(f1.id))?.messageId, null, "the first one was not kept");
      const seqBefore = (await store.listMessages(general, { latest: true, limit: 1 })).cursor;
      assert.equal(seqBefore, 0, "refused messages took no change number");

      const { message, created } = await send("ok", [f2.id, f1.id]);
      assert.ok(created);
      assert.deepEqual(message.attachments.map((a) => a.id), [f2.id, f1.id], "in the given order");
      assert.equal((await store.getFile(f1.id))?.messageId, message.id);
      assert.equal((await store.getFile(f2.id))?.messageId, message.id);
      await refused([f1.id], f1.id);
      await refused([f3.id, f3.id], f3.id);
      assert.equal((await store.getFile(f3.id))?.messageId, null);

      const retried = await send("ok", [f3.id]);
      assert.equal(retried.created, false);
      assert.deepEqual(retried.message.attachments.map((a) => a.id), [f2.id, f1.id]);
      assert.equal((await store.getFile(f3.id))?.messageId, null, "a retry attaches nothing");
    },
  );

  test("messages carry their attachments wherever they are read", async (store, general) => {
    const ada = await store.createMember("Ada");
    const photo = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(BIG, 5),
      name: "photo #1.jpg",
      type: "image/jpeg",
      width: 4000,
      height: 3000,
    });
    const previewBytes = pattern(2000, 6);
    const previewed = (await store.setFilePreview({
      fileId: photo.id,
      type: "image/webp",
      width: 1280,
      height: 960,
      content: pieces(previewBytes, 700),
      maxBytes: 512 * 1024,
    }))!;
    const doc = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(300, 7),
      name: "doc.pdf",
      type: "application/pdf",
    });
    const before = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "before",
      clientId: "b",
    });
    const { message } = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "",
      clientId: "m",
      attachments: [doc.id, photo.id],
    });
    await store.addMessage({ room: general, authorId: ada.id, body: "after", clientId: "a" });
    const url = `/files/${photo.id}/photo%20%231.jpg`;
    const expected = [
      {
        id: doc.id,
        name: "doc.pdf",
        size: 300,
        type: "application/pdf",
        url: `/files/${doc.id}/doc.pdf`,
        width: null,
        height: null,
        preview: null,
      },
      {
        id: photo.id,
        name: "photo #1.jpg",
        size: BIG,
        type: "image/jpeg",
        url,
        width: 4000,
        height: 3000,
        preview: {
          url: `${url}?preview`,
          type: "image/webp",
          size: 2000,
          width: 1280,
          height: 960,
        },
      },
    ];
    assert.deepEqual(message.attachments, expected);
    assert.deepEqual(before.message.attachments, []);
    const pages = [
      await store.listMessages(general, { latest: true, limit: 10 }),
      await store.listMessages(general, { before: message.id + 1, limit: 10 }),
      await store.listMessages(general, { after: 0, limit: 10 }),
      await store.listMessages(general, { since: 0, limit: 10 }),
      await store.listMessages(general, { around: message.id, limit: 3 }),
    ];
    for (const page of pages) {
      const found = page.messages.find((m) => m.id === message.id);
      assert.deepEqual(found?.attachments, expected);
      for (const other of page.messages.filter((m) => m.id !== message.id)) {
        assert.deepEqual(other.attachments, []);
      }
    }
    assert.deepEqual((await store.getMessage(general, message.id))?.attachments, expected);
    assert.deepEqual((await store.findSent(ada.id, "m"))?.attachments, expected);
    assert.deepEqual(
      await readAll(await store.readContent(previewed.previewSha256!)),
      previewBytes,
    );
    assert.equal(
      await store.setFilePreview({
        fileId: photo.id,
        type: "image/webp",
        width: 10,
        height: 10,
        content: pieces(pattern(100, 8)),
        maxBytes: 1000,
      }),
      null,
      "an attached file's preview stays",
    );
    assert.deepEqual(await counts(store), { files: 2, blobs: 3, contents: 3 });
  });

  test("sets and replaces a preview; refuses one over the limit", async (store, general) => {
    const ada = await store.createMember("Ada");
    const photo = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(BIG, 9),
      type: "image/png",
      width: 3000,
      height: 2000,
    });
    const preview = (bytes: Uint8Array, maxBytes = 512 * 1024) =>
      store.setFilePreview({
        fileId: photo.id,
        type: "image/jpeg",
        width: 1280,
        height: 853,
        content: pieces(bytes, 999),
        maxBytes,
      });
    const firstBytes = pattern(4000, 10);
    const first = (await preview(firstBytes))!;
    assert.deepEqual(first.preview, {
      url: `${photo.url}?preview`,
      type: "image/jpeg",
      size: 4000,
      width: 1280,
      height: 853,
    });
    assert.equal(first.previewSha256, sha256(firstBytes));
    assert.deepEqual(await store.getFile(photo.id), first);
    const secondBytes = pattern(3000, 11);
    const second = (await preview(secondBytes))!;
    assert.equal(second.preview?.size, 3000);
    assert.deepEqual(await readAll(await store.readContent(second.previewSha256!)), secondBytes);
    assert.equal(await store.readContent(first.previewSha256!), null, "the replaced one is gone");
    await assert.rejects(() => preview(pattern(5000, 12), 4999), FileTooLargeError);
    assert.deepEqual(await store.getFile(photo.id), second, "unchanged");
    assert.deepEqual(await counts(store), { files: 1, blobs: 2, contents: 2 });
    assert.equal(
      await store.setFilePreview({
        fileId: "no-such-file",
        type: "image/jpeg",
        width: 1,
        height: 1,
        content: pieces(pattern(10, 13)),
        maxBytes: 100,
      }),
      null,
    );
    assert.deepEqual(await counts(store), { files: 1, blobs: 2, contents: 2 }, "nothing kept");
  });

  test("deleting a message erases its files and their bytes", async (store, general) => {
    const ada = await store.createMember("Ada");
    const photo = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(BIG, 14),
      type: "image/png",
      width: 3000,
      height: 2000,
    });
    const previewed = (await store.setFilePreview({
      fileId: photo.id,
      type: "image/webp",
      width: 1280,
      height: 853,
      content: pieces(pattern(1000, 15)),
      maxBytes: 512 * 1024,
    }))!;
    const doc = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(100, 16),
    });
    const kept = await upload(store, {
      roomId: general.id,
      uploaderId: ada.id,
      bytes: pattern(100, 17),
    });
    const { message } = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "files",
      clientId: "f",
      attachments: [photo.id, doc.id],
    });
    const deleted = await store.deleteMessage({ room: general, id: message.id, now: Date.now() });
    assert.ok(deleted.ok && deleted.changed);
    assert.deepEqual(deleted.message.attachments, []);
    assert.deepEqual((await store.getMessage(general, message.id))?.attachments, []);
    for (const file of [photo, doc]) assert.equal(await store.getFile(file.id), null);
    for (const key of [photo.sha256, previewed.previewSha256!, doc.sha256]) {
      assert.equal(await store.readContent(key), null);
    }
    assert.ok(await store.getFile(kept.id), "an unattached upload is not touched");
    assert.deepEqual(await counts(store), { files: 1, blobs: 1, contents: 1 });
  });

  test(
    "an upload of the same bytes while the last file with them is deleted keeps them",
    async (store, general) => {
      const ada = await store.createMember("Ada");
      for (let round = 0; round < 8; round++) {
        const bytes = pattern(CHUNK + 500, 20 + round);
        const first = await upload(store, { roomId: general.id, uploaderId: ada.id, bytes });
        const { message } = await store.addMessage({
          room: general,
          authorId: ada.id,
          body: "",
          clientId: `race-${round}`,
          attachments: [first.id],
        });
        // The deletion starts a little later each round, so that it meets the upload at
        // different points (receiving, keeping the content, recording the file).
        const deletion = (async () => {
          for (let tick = 0; tick < round * 2; tick++) await Promise.resolve();
          await new Promise((resolve) => setTimeout(resolve, round));
          return await store.deleteMessage({ room: general, id: message.id, now: Date.now() });
        })();
        const [, again] = await Promise.all([
          deletion,
          upload(store, { roomId: general.id, uploaderId: ada.id, bytes }),
        ]);
        assert.deepEqual(
          await readAll(await store.readContent(again.sha256)),
          bytes,
          `round ${round}`,
        );
      }
    },
  );

  test("pruning removes old unattached uploads only", async (store, general) => {
    const ada = await store.createMember("Ada");
    const now = Date.now();
    const at = (n: number, created: number) =>
      upload(store, {
        roomId: general.id,
        uploaderId: ada.id,
        bytes: pattern(500, n),
        now: created,
      });
    const stale = await at(1, now - 2 * DAY);
    const attached = await at(2, now - 2 * DAY);
    const fresh = await at(3, now - 3600_000);
    const oldish = await at(4, now - 5 * 3600_000);
    await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "",
      clientId: "a",
      attachments: [attached.id],
    });
    const keep = { sessionIdleMs: 30 * DAY, guestRetentionMs: 30 * DAY };
    assert.deepEqual(await store.pruneStale({ now, ...keep }), {
      sessions: 0,
      invites: 0,
      guests: 0,
      files: 1,
    });
    assert.equal(await store.getFile(stale.id), null);
    assert.equal(await store.readContent(stale.sha256), null, "its bytes went with it");
    for (const file of [attached, fresh, oldish]) {
      assert.ok(await store.getFile(file.id));
      assert.ok(await readAll(await store.readContent(file.sha256)));
    }
    const shorter = await store.pruneStale({ now, ...keep, uploadRetentionMs: 4 * 3600_000 });
    assert.equal(shorter?.files, 1, "with a shorter retention");
    assert.equal(await store.getFile(oldish.id), null);
    assert.ok(await store.getFile(fresh.id));
    assert.deepEqual(await counts(store), { files: 2, blobs: 2, contents: 2 });
  });

  test("counts the bytes a member uploaded since a time", async (store, general) => {
    const ada = await store.createMember("Ada");
    const bob = await store.createMember("Bob");
    const now = Date.now();
    const add = (uploaderId: number, size: number, created: number, seed: number) =>
      upload(store, { roomId: general.id, uploaderId, bytes: pattern(size, seed), now: created });
    await add(ada.id, 100, now, 1);
    await add(ada.id, 200, now - 1000, 2);
    await add(ada.id, 50, now - 2 * 3600_000, 3);
    await add(bob.id, 1000, now, 4);
    assert.equal(await store.uploadedBytes(ada.id, now - 3600_000), 300);
    assert.equal(await store.uploadedBytes(ada.id, now - 3 * 3600_000), 350);
    assert.equal(await store.uploadedBytes(bob.id, now - 3600_000), 1000);
    assert.equal(await store.uploadedBytes(999_999, 0), 0);
  });
}
