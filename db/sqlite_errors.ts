// SQLite errors that mean "cannot write now" (disk full, read-only, I/O, locked), as StoreUnavailableError.
import { StoreUnavailableError } from "./store.ts";

// Primary result codes: BUSY, READONLY, IOERR, FULL, CANTOPEN.
const UNAVAILABLE_CODES = new Set([5, 8, 10, 13, 14]);
// `exec()` errors carry no code, only SQLite's message for it.
const UNAVAILABLE_MESSAGES =
  /database or disk is full|readonly database|disk I\/O error|unable to open database file|database is locked/i;

/** Whether an error from node:sqlite means the database cannot be written (or read) right now. */
export function isSqliteUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code === "number") return UNAVAILABLE_CODES.has(code & 0xff);
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** The error to throw for `error`: a {@link StoreUnavailableError} when SQLite cannot work now. */
export function sqliteError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isSqliteUnavailable(error)) return error;
  return new StoreUnavailableError(
    `The SQLite database cannot be written: ${(error as Error).message}`,
    { cause: error },
  );
}
