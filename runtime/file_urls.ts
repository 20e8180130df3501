// Conversions between file URLs and paths (the runtime's stand-in for @std/path's helpers).
import { fileURLToPath, pathToFileURL } from "node:url";

/** A `file:` URL as a path. */
export function fromFileUrl(url: URL | string): string {
  return fileURLToPath(url);
}

/** A path as a `file:` URL. */
export function toFileUrl(path: string): URL {
  return pathToFileURL(path);
}
