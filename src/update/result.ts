/**
 * What the image's health check left after the last first boot of a new slot, read-only:
 *   <os update dir>/result  one line: `<ISO> installed <version>: slot B committed`
 *                                  or `<ISO> rolled-back <version>: slot B did not come up healthy; back on slot A`
 *   <os update dir>/trial   `<slot> <version>` while a trial boot is pending.
 * Parsed defensively: an unknown line is shown as it is (capped), with no outcome.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface UpdateResult { line: string; at: string | null; outcome: "installed" | "rolled-back" | null; version: string | null }

export function parseResult(text: string): UpdateResult | null {
  const line = text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1)?.slice(0, 300).replace(/[\u0000-\u001f\u007f]/g, "") ?? "";
  if (!line) return null;
  const m = /^(\d{4}-\d{2}-\d{2}T[0-9:.]+Z?)\s+(installed|rolled-back)\s+([^\s:]{1,128}):/.exec(line);
  return m ? { line, at: m[1]!, outcome: m[2] as "installed" | "rolled-back", version: m[3]! } : { line, at: null, outcome: null, version: null };
}

export function parseTrial(text: string): { slot: string; version: string } | null {
  const m = /^\s*(\S{1,32})\s+(\S{1,128})\s*$/.exec(text.split("\n")[0] ?? "");
  return m ? { slot: m[1]!, version: m[2]! } : null;
}

const readSmall = (f: string) => { try { return readFileSync(f, "utf8").slice(0, 4096); } catch { return null; } };

export function readOutcome(osUpdateDir: string) {
  const r = readSmall(join(osUpdateDir, "result"));
  const t = readSmall(join(osUpdateDir, "trial"));
  return { result: r === null ? null : parseResult(r), trial: t === null ? null : parseTrial(t) };
}
