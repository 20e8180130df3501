// A minimal HTTP/1.1 keep-alive client on Deno.connect: GETs as fetch sends them, for cheap readers.
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

const CR = 13;
const LF = 10;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const latin1 = new TextDecoder("latin1");

/** An answer: status and body text (decompressed). */
export interface RawResponse {
  status: number;
  body: string;
}

/**
 * One keep-alive connection to `127.0.0.1:port`, one request at a time, reconnecting when the
 * server closed it. Sends the headers Deno's fetch sends (so the server does the same work) and
 * understands Content-Length and chunked bodies, gzip, deflate and br.
 */
export class RawHttpConnection {
  #hostname: string;
  #port: number;
  #conn?: Deno.TcpConn;
  #buffer = new Uint8Array(16 * 1024);
  #length = 0;
  #closed = false;

  constructor(hostname: string, port: number) {
    this.#hostname = hostname;
    this.#port = port;
  }

  /** GET `path` with `headers` (names in lower case); throws on network errors. */
  async get(path: string, headers: Record<string, string>): Promise<RawResponse> {
    if (this.#closed) throw new Error("connection closed");
    if (!this.#conn) {
      this.#conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
      this.#conn.setNoDelay(true);
      this.#length = 0;
    }
    let head = `GET ${path} HTTP/1.1\r\nhost: ${this.#hostname}:${this.#port}\r\n` +
      "accept-encoding: gzip,br\r\naccept-language: *\r\nuser-agent: Deno/bench\r\n";
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    try {
      await this.#writeAll(encoder.encode(head + "\r\n"));
      return await this.#readResponse();
    } catch (error) {
      this.#drop();
      throw error;
    }
  }

  /** Closes the connection; a request in progress fails. */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  #drop(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#conn = undefined;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) at += await this.#conn!.write(bytes.subarray(at));
  }

  /** Reads more bytes into the buffer (growing it); throws at end of stream. */
  async #fill(): Promise<void> {
    if (this.#length === this.#buffer.length) {
      const bigger = new Uint8Array(this.#buffer.length * 2);
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    const read = await this.#conn!.read(this.#buffer.subarray(this.#length));
    if (read === null) throw new Error("the server closed the connection");
    this.#length += read;
  }

  /** Removes the first `count` bytes of the buffer. */
  #consume(count: number): void {
    this.#buffer.copyWithin(0, count, this.#length);
    this.#length -= count;
  }

  /** Index just past the next CRLF at or after `from`, or -1 when not read yet. */
  #lineEnd(from: number): number {
    for (let i = from; i + 1 < this.#length; i++) {
      if (this.#buffer[i] === CR && this.#buffer[i + 1] === LF) return i + 2;
    }
    return -1;
  }

  async #readResponse(): Promise<RawResponse> {
    let headEnd = -1;
    while (headEnd < 0) {
      for (let i = 3; i < this.#length; i++) {
        if (
          this.#buffer[i] === LF && this.#buffer[i - 1] === CR && this.#buffer[i - 2] === LF &&
          this.#buffer[i - 3] === CR
        ) {
          headEnd = i + 1;
          break;
        }
      }
      if (headEnd < 0) await this.#fill();
    }
    const head = latin1.decode(this.#buffer.subarray(0, headEnd)).split("\r\n");
    const status = Number(head[0].split(" ")[1]);
    const fields = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    this.#consume(headEnd);

    let body: Uint8Array;
    if (fields.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      body = await this.#readChunked();
    } else {
      const size = Number(fields.get("content-length") ?? 0);
      while (this.#length < size) await this.#fill();
      body = this.#buffer.slice(0, size);
      this.#consume(size);
    }
    const encoding = fields.get("content-encoding");
    if (encoding === "gzip") body = gunzipSync(body);
    else if (encoding === "deflate") body = inflateSync(body);
    else if (encoding === "br") body = brotliDecompressSync(body);
    if (fields.get("connection")?.toLowerCase() === "close") this.#drop();
    return { status, body: decoder.decode(body) };
  }

  async #readChunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    while (true) {
      let end = this.#lineEnd(0);
      while (end < 0) {
        await this.#fill();
        end = this.#lineEnd(0);
      }
      const size = parseInt(latin1.decode(this.#buffer.subarray(0, end - 2)), 16);
      this.#consume(end);
      if (!(size > 0)) {
        // Last chunk: skip trailers up to the empty line.
        while (true) {
          let trailer = this.#lineEnd(0);
          while (trailer < 0) {
            await this.#fill();
            trailer = this.#lineEnd(0);
          }
          this.#consume(trailer);
          if (trailer === 2) break;
        }
        break;
      }
      while (this.#length < size + 2) await this.#fill();
      parts.push(this.#buffer.slice(0, size));
      total += size;
      this.#consume(size + 2);
    }
    const body = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      body.set(part, at);
      at += part.length;
    }
    return body;
  }
}
