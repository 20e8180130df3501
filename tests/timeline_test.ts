// The timeline's rows (day separators, grouping) and the reader's locale and time zone.
import assert from "node:assert/strict";
import {
  msUntilNextDay,
  type TimeFormatter,
  timeFormatter,
  timelineRows,
} from "../components/timeline.ts";
import { pickLocale, readerTime, validTimeZone } from "../http/reader_time.ts";

function msg(id: number, author: number, createdAt: string, extra: object = {}) {
  return { id, author: { id: author }, createdAt, ...extra };
}

function shape(rows: ReturnType<typeof timelineRows<ReturnType<typeof msg>>>) {
  return rows.map((r) => r.kind === "day" ? r.label : `${r.message.id}${r.grouped ? "g" : ""}`);
}

const berlin = { locale: "en-GB", timeZone: "Europe/Berlin", zoneKnown: true };

Deno.test("timeline: day separators in the reader's zone: Today, Yesterday, then dates", () => {
  const rows = timelineRows([
    msg(1, 1, "2025-05-20T10:00:00Z"),
    msg(2, 1, "2025-06-02T21:59:00Z"), // 23:59 in Berlin, yesterday
    msg(3, 1, "2025-06-02T22:01:00Z"), // 00:01 in Berlin, today
  ], { ...berlin, now: Date.parse("2025-06-03T12:00:00Z") });
  assert.deepEqual(shape(rows), ["Tuesday 20 May", "1", "Yesterday", "2", "Today", "3"]);
  // In UTC the last two are on the same day, and 2 minutes apart: grouped.
  const utc = timelineRows(rows.flatMap((r) => r.kind === "message" ? [r.message] : []), {
    locale: "en-GB",
    timeZone: "UTC",
    zoneKnown: false,
    now: Date.parse("2025-06-03T12:00:00Z"),
  });
  assert.deepEqual(shape(utc), ["Tuesday 20 May", "1", "Yesterday", "2", "3g"]);
});

Deno.test("timeline: dates of other years carry the year; labels follow the locale", () => {
  const rows = timelineRows([msg(1, 1, "2024-12-31T10:00:00Z"), msg(2, 1, "2025-06-03T10:00Z")], {
    locale: "de-DE",
    timeZone: "Europe/Berlin",
    zoneKnown: true,
    now: Date.parse("2025-06-03T12:00:00Z"),
  });
  assert.deepEqual(shape(rows), ["Dienstag, 31. Dezember 2024", "1", "Heute", "2"]);
});

Deno.test("timeline: same author within 5 minutes is grouped; others, replies, deletions break", () => {
  const rows = timelineRows([
    msg(1, 1, "2025-06-03T10:00:00Z"),
    msg(2, 1, "2025-06-03T10:04:59Z"), // grouped
    msg(3, 1, "2025-06-03T10:10:00Z"), // more than 5 minutes after 2
    msg(4, 2, "2025-06-03T10:10:30Z"), // another author
    msg(5, 1, "2025-06-03T10:11:00Z"),
    msg(6, 1, "2025-06-03T10:11:30Z", { replyTo: { id: 1 } }), // a reply shows its header
    msg(7, 1, "2025-06-03T10:12:00Z"), // follows the reply
    msg(8, 1, "2025-06-03T10:12:10Z", { deleted: true }), // a tombstone is never grouped
    msg(9, 1, "2025-06-03T10:12:20Z"), // nor heads a group
    msg(10, 1, "2025-06-03T10:12:30Z"),
  ], { ...berlin, now: Date.parse("2025-06-03T12:00:00Z") });
  assert.deepEqual(shape(rows), ["Today", "1", "2g", "3", "4", "5", "6", "7g", "8", "9", "10g"]);
});

Deno.test("timeline: 12- or 24-hour clock as the locale says; the zone is named when unknown", () => {
  const date = new Date("2025-06-03T14:05:09Z");
  assert.equal(
    timeFormatter({ locale: "en-GB", timeZone: "UTC", zoneKnown: true }).clock(date),
    "14:05",
  );
  assert.equal(
    timeFormatter({ locale: "en-US", timeZone: "America/New_York", zoneKnown: true }).clock(date),
    "10:05 AM",
  );
  assert.equal(
    timeFormatter({ locale: "en-GB", timeZone: "UTC", zoneKnown: false }).clock(date),
    "14:05 UTC",
  );
  assert.match(
    timeFormatter({ locale: "en-GB", timeZone: "Europe/Berlin", zoneKnown: true }).full(date),
    /^Tuesday,? 3 June 2025 at 16:05:09 (CEST|GMT\+2)$/,
  );
});

Deno.test("timeline: the next day starts at the zone's midnight", () => {
  const now = Date.parse("2025-06-02T21:58:00Z"); // 23:58 in Berlin
  assert.equal(msUntilNextDay(now, "Europe/Berlin"), 2 * 60_000);
  assert.equal(msUntilNextDay(now, "UTC"), 2 * 60_000 + 2 * 3_600_000);
});

Deno.test("reader time: locale from Accept-Language, zone from the cookie, UTC until known", () => {
  assert.equal(pickLocale("de-DE,de;q=0.9,en;q=0.8"), "de-DE");
  assert.equal(pickLocale("xx-invalid-@@, fr;q=0.5, en;q=0.7"), "en");
  assert.equal(pickLocale(null), "en");
  assert.equal(pickLocale("*"), "en");
  assert.equal(validTimeZone("Europe/Berlin"), "Europe/Berlin");
  assert.equal(validTimeZone("Mars/Olympus"), null);
  assert.equal(validTimeZone("a".repeat(100)), null);
  assert.deepEqual(readerTime("en-US", undefined), {
    locale: "en-US",
    timeZone: "UTC",
    zoneKnown: false,
  });
  assert.deepEqual(readerTime("en-GB", "Asia/Tokyo"), {
    locale: "en-GB",
    timeZone: "Asia/Tokyo",
    zoneKnown: true,
  });
});

Deno.test("reader time: locales keep language, script and region only; the formatter cache is bounded", () => {
  assert.equal(pickLocale("en-x-attacker1"), "en");
  assert.equal(pickLocale("de-DE-u-ca-buddhist"), "de-DE");
  assert.equal(pickLocale("zh-Hant-TW"), "zh-Hant-TW");
  // Many different headers and zones make at most a bounded number of formatters.
  const zones = Intl.supportedValuesOf("timeZone").slice(0, 400);
  const made = new Set<TimeFormatter>();
  for (const zone of zones) {
    made.add(timeFormatter({ locale: "en", timeZone: zone, zoneKnown: true }));
  }
  assert.equal(made.size, zones.length, "each zone its own formatter");
  const first = timeFormatter({ locale: "en", timeZone: zones[0], zoneKnown: true });
  assert.ok(!made.has(first), "the oldest were let go: the cache did not keep all 400");
});

Deno.test("timeline: remembered texts change exactly where the zone's day and minute change", () => {
  // Kathmandu is 5:45 ahead of UTC: its days begin at 18:15 UTC.
  const kathmandu = timeFormatter({ locale: "en-GB", timeZone: "Asia/Kathmandu", zoneKnown: true });
  const before = new Date("2026-03-01T18:14:59.999Z");
  const after = new Date("2026-03-01T18:15:00.000Z");
  for (let round = 0; round < 2; round++) { // the second round is answered from memory
    assert.equal(kathmandu.dayKey(new Date("2026-03-01T18:00:00Z")), "2026-03-01");
    assert.equal(kathmandu.dayKey(before), "2026-03-01");
    assert.equal(kathmandu.dayKey(after), "2026-03-02");
    assert.equal(kathmandu.clock(before), "23:59");
    assert.equal(kathmandu.clock(after), "00:00");
    assert.notEqual(kathmandu.full(before), kathmandu.full(after));
  }
});
