/**
 * Reading request bodies without ever turning a client's mistake into a 500: a form that cannot
 * be parsed (a multipart body without its boundary, bytes that are not a form) is a 400, and
 * every field is text of bounded length.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";

export const MAX_FIELD = 2048;

export async function readForm(c: Context): Promise<Record<string, unknown>> {
  const ctype = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(ctype)) {
    throw new HTTPException(415, { message: "Send the form as application/x-www-form-urlencoded or multipart/form-data." });
  }
  try {
    return await c.req.parseBody();
  } catch {
    throw new HTTPException(400, { message: "The form could not be read." });
  }
}

/** One text field of a form ("" when absent); 400 when it is a file, repeated or too long. */
export function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined) return "";
  if (typeof v !== "string") throw new HTTPException(400, { message: `${name} must be text` });
  if (v.length > MAX_FIELD) throw new HTTPException(400, { message: `${name} is too long` });
  return v;
}
