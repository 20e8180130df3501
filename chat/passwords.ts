// Password hashing with scrypt (memory-hard, from node:crypto): N=2^15, r=8, p=1, 16-byte salt.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { ChatError } from "./chat_error.ts";

/** scrypt parameters: 32 MiB and roughly 50–100 ms per hash on our machines. */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, maxmem: 64 * 1024 * 1024 };

/**
 * Runs at most `concurrency` jobs at once, with at most `maxWaiting` more waiting in line
 * (first come, first served); beyond that a job is refused at once with 503 `busy`.
 */
export class WorkQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  /** Jobs running now, and waiting now. */
  running = 0;
  #waiting: Array<() => void> = [];
  /** The most jobs seen running, and waiting, at once (since the last {@link resetPeak}). */
  peak = 0;
  peakWaiting = 0;

  constructor(options: { concurrency: number; maxWaiting: number }) {
    this.concurrency = options.concurrency;
    this.maxWaiting = options.maxWaiting;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Forgets the peaks (tests). */
  resetPeak(): void {
    this.peak = this.running;
    this.peakWaiting = this.waiting;
  }

  /** Runs `job` when a place is free; throws a 503 ChatError when the line is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.#waiting.length >= this.maxWaiting) {
        throw new ChatError(
          503,
          "busy",
          "The server is busy checking passwords; try again in a few seconds.",
          { retryAfter: 5 },
        );
      }
      // The job that finishes hands its place over (running stays counted).
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      this.peakWaiting = Math.max(this.peakWaiting, this.#waiting.length + 1);
    } else {
      this.running++;
    }
    this.peak = Math.max(this.peak, this.running);
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * Every scrypt computation (hashing and checking) goes through this line: at most two at
 * once (64 MiB), 32 waiting; so the server's memory does not grow with the number of clients.
 */
export const passwordWork = new WorkQueue({ concurrency: 2, maxWaiting: 32 });

function derive(password: string, salt: Buffer, params = SCRYPT): Promise<Buffer> {
  return passwordWork.run(() => deriveNow(password, salt, params));
}

function deriveNow(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize("NFC"),
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: params.maxmem },
      (error, key) => error ? reject(error) : resolve(key),
    )
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), key.toString("base64")]
    .join("$");
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(password, Buffer.from(salt, "base64"), {
    ...SCRYPT,
    N: Number(n),
    r: Number(r),
    p: Number(p),
    keyLength: expected.length,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
