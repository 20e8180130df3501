// The limits chat enforces on the server, with their defaults.

/** Limits on messages, requests, history pages and long polls. */
export interface ChatLimits {
  /** Longest message body, in characters (Unicode code points). */
  maxMessageChars: number;
  /** Largest request body, in bytes. */
  maxRequestBytes: number;
  /** Messages a member may send per burst window. */
  burstMessages: number;
  /** The burst window, in milliseconds. */
  burstWindowMs: number;
  /** Messages in a history page when no limit is asked for. */
  pageSize: number;
  /** Most messages one request may ask for. */
  maxPageSize: number;
  /** Longest long-poll wait a client may ask for, in seconds. */
  maxWaitSeconds: number;
  /** The wait the browser asks for, in seconds. */
  pollWaitSeconds: number;
  /** Longest member name, in visible characters. */
  maxNameChars: number;
}

/** The default limits (see the README's configuration table). */
export const DEFAULT_LIMITS: ChatLimits = {
  maxMessageChars: 4000,
  maxRequestBytes: 64 * 1024,
  burstMessages: 10,
  burstWindowMs: 10_000,
  pageSize: 50,
  maxPageSize: 200,
  maxWaitSeconds: 60,
  pollWaitSeconds: 25,
  maxNameChars: 40,
};
