// The reader's locale and time zone for server-rendered times: the locale from
// `Accept-Language`, the zone from the `tz` cookie that the chat island sets (UTC until then).
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { TimeSettings } from "../components/timeline.ts";

/** The cookie in which the island stores the browser's IANA time zone. */
export const TIME_ZONE_COOKIE = "tz";

const FALLBACK_LOCALE = "en";

/** The best locale of an `Accept-Language` header that `Intl` supports, else `en`. */
export function pickLocale(header: string | null | undefined): string {
  if (!header) return FALLBACK_LOCALE;
  const wanted = header.slice(0, 500).split(",").slice(0, 20).map((part, index) => {
    const [tag, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const weight = q ? Number(q.slice(2)) : 1;
    return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
  }).filter((w) => w.weight > 0 && w.tag !== "*" && /^[A-Za-z0-9-]{1,35}$/.test(w.tag))
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const { tag } of wanted) {
    try {
      // Language, script and region only: extensions and private-use parts (`en-x-…`,
      // `en-u-ca-…`) would let every request make a locale of its own.
      const { language, script, region } = new Intl.Locale(tag);
      const plain = [language, script, region].filter(Boolean).join("-");
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf(plain);
      if (supported) return supported;
    } catch {
      // Not a valid language tag: try the next one.
    }
  }
  return FALLBACK_LOCALE;
}

/** The IANA zone named by the cookie if `Intl` knows it, else null. */
export function validTimeZone(value: string | null | undefined): string | null {
  if (!value || value.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(value)) return null;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The time settings of a request. */
export function readerTime(
  acceptLanguage: string | null | undefined,
  zoneCookie: string | null | undefined,
): TimeSettings {
  const zone = validTimeZone(zoneCookie);
  return {
    locale: pickLocale(acceptLanguage),
    timeZone: zone ?? "UTC",
    zoneKnown: zone !== null,
  };
}

/** The time settings of the request in `c`: its `Accept-Language` and `tz` cookie. */
export function requestTime(c: Context): TimeSettings {
  return readerTime(c.req.header("accept-language"), getCookie(c, TIME_ZONE_COOKIE));
}
