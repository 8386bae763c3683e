// Pairing codes: short enough to type from a box's homepage, drawn from an alphabet without
// look-alikes (no 0/O, 1/I/L). Pure.
import { randomInt } from "node:crypto";

export const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;

export function newPairingCode(rand: (n: number) => number = randomInt): string {
  let s = "";
  for (let i = 0; i < CODE_LENGTH; i++) s += ALPHABET[rand(ALPHABET.length)];
  return s;
}

/** What a person typed ("abcd-efgh ", "ABCD EFGH") as the stored code, or null when it cannot be one. */
export function normaliseCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 40) return null;
  const s = input.toUpperCase().replace(/[\s-]/g, "");
  return s.length === CODE_LENGTH && [...s].every((ch) => ALPHABET.includes(ch)) ? s : null;
}

/** Shown as ABCD-EFGH. */
export const displayCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;
