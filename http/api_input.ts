// Reading API input: JSON bodies and query strings, validated by the API schemas.
import type { z } from "zod";
import { ChatError } from "../chat/chat_error.ts";
import { describeIssue } from "./api_schemas.ts";

/** Parses and validates a JSON request body; malformed JSON or a wrong shape is a 400. */
export async function readJson<T extends z.ZodType>(
  request: Request,
  schema: T,
): Promise<z.output<T>> {
  let value: unknown;
  try {
    value = await request.json();
  } catch {
    throw new ChatError(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ChatError(400, "invalid_request", describeIssue(parsed.error));
  }
  return parsed.data;
}

/** Validates a URL's query string (each parameter once); a bad value is a 400. */
export function readQuery<T extends z.ZodType>(url: URL, schema: T): z.output<T> {
  // No prototype: keys come from the URL ("constructor", "__proto__" are plain keys here).
  const query: Record<string, string> = Object.create(null);
  for (const [key, value] of url.searchParams) {
    if (Object.hasOwn(query, key)) {
      throw new ChatError(400, "invalid_request", `${key} is given more than once.`);
    }
    query[key] = value;
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new ChatError(400, "invalid_request", describeIssue(parsed.error));
  }
  return parsed.data;
}

/** Validates one path parameter; a bad value is a 400. */
export function readParam<T extends z.ZodType>(value: string, schema: T): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ChatError(400, "invalid_request", describeIssue(parsed.error));
  }
  return parsed.data;
}
