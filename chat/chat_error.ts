// The error chat operations throw: an HTTP status, a stable code and a message for people.

/** A refused chat operation; the API shows it as `{"error": {"code", "message"}}`. */
export class ChatError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds after which a retry may succeed (rate limits). */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { retryAfter?: number } = {},
  ) {
    super(message);
    this.name = "ChatError";
    this.status = status;
    this.code = code;
    this.retryAfter = options.retryAfter;
  }
}

/** The 429 for a rate limit: "You are {what} too fast", with the wait (ms) as Retry-After. */
export function tooFast(wait: number, what: string): ChatError {
  const seconds = Math.ceil(wait / 1000);
  return new ChatError(
    429,
    "rate_limited",
    `You are ${what} too fast; try again in ${seconds} s.`,
    { retryAfter: seconds },
  );
}
