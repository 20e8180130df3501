// Maps route file names (Fresh conventions) to URL patterns and orders them for matching.

/** A route file turned into a URL pattern. */
export interface RoutePath {
  /** The manifest key, e.g. `./routes/rooms/[room].tsx`. */
  file: string;
  /** The Hono pattern, e.g. `/rooms/:room`. */
  pattern: string;
  /** `page`, or `app`/`404`/`500`/`middleware` for the special `_` files. */
  kind: "route" | "app" | "404" | "500" | "middleware";
}

/**
 * Turns a manifest key into a URL pattern: `index` is the folder itself,
 * `[name]` a segment parameter, `[...name]` the rest of the path.
 */
export function routePath(file: string): RoutePath {
  const path = file.replace(/^\.\/routes/, "").replace(/\.(tsx?|jsx?)$/, "");
  const segments = path.split("/").filter(Boolean);
  const last = segments.at(-1) ?? "";
  const special: Record<string, RoutePath["kind"]> = {
    _app: "app",
    _404: "404",
    _500: "500",
    _middleware: "middleware",
  };
  const kind = special[last] ?? "route";
  if (kind !== "route" || last === "index") segments.pop();
  const pattern = "/" + segments.map((segment) => {
    const rest = segment.match(/^\[\.\.\.(\w+)\]$/);
    if (rest) return `:${rest[1]}{.+}`;
    return segment.replace(/\[(\w+)\]/g, ":$1");
  }).join("/");
  return { file, pattern, kind };
}

/** Sorts patterns so that static segments win over parameters, and parameters over catch-alls. */
export function compareRoutes(a: RoutePath, b: RoutePath): number {
  const rank = (segment: string) => segment.includes("{.+}") ? 2 : segment.startsWith(":") ? 1 : 0;
  const as = a.pattern.split("/");
  const bs = b.pattern.split("/");
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const diff = rank(as[i]) - rank(bs[i]);
    if (diff !== 0) return diff;
  }
  return bs.length - as.length || a.pattern.localeCompare(b.pattern);
}
