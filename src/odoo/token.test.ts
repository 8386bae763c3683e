import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseConnectionToken, TokenError } from "./token";

const UUID = "1f2e3d4c-0000-1111-2222-333344445555";
const pipes = `https://shop.example.com/odoo?x=1|abcdefgh12345678|${UUID}|M2401234`;

describe("the connection token, in the reference's shapes", () => {
  test("url|token|db_uuid|enterprise_code: the URL is cut to scheme://host as parse_url does", () => {
    expect(parseConnectionToken(pipes)).toEqual({ serverUrl: "https://shop.example.com", token: "abcdefgh12345678", dbUuid: UUID, enterpriseCode: "M2401234", dbName: null });
  });
  test("the same string base64-encoded (older boxes), standard and URL-safe alphabets, surrounding blanks", () => {
    const b64 = Buffer.from(pipes).toString("base64");
    expect(parseConnectionToken(`  ${b64}\n`).token).toBe("abcdefgh12345678");
    expect(parseConnectionToken(b64.replace(/\+/g, "-").replace(/\//g, "_")).dbUuid).toBe(UUID);
  });
  test("a URL with query parameters (v18+): token, db_uuid, enterprise_code, db_name; the first of a repeated one", () => {
    const url = `https://shop.example.com:8443/?token=abcdefgh12345678&db_uuid=${UUID}&enterprise_code=M2401234&db_name=shop&token=other-token-999`;
    expect(parseConnectionToken(url)).toEqual({ serverUrl: "https://shop.example.com:8443", token: "abcdefgh12345678", dbUuid: UUID, enterpriseCode: "M2401234", dbName: "shop" });
  });
  test.each(([
    ["", "empty"],
    ["hello world", "spaces"],
    ["just-some-text", "not a connection token"],
    [`ftp://shop.example.com|abcdefgh12345678|${UUID}|M2401234`, "https://"],
    [`https://localhost|abcdefgh12345678|${UUID}|M2401234`, "localhost"],
    [`https://u:p@shop.example.com|abcdefgh12345678|${UUID}|M2401234`, "user name"],
    [`https://shop.example.com|short|${UUID}|M2401234`, "token part"],
    [`https://shop.example.com|abcdefgh12345678|bad uuid!|M2401234`, "spaces"],
    [`https://shop.example.com|abcdefgh12345678|${UUID}|!`, "contract"],
    [`https://shop.example.com/?db_uuid=${UUID}&enterprise_code=M2401234`, "token part"],
    [`https://shop.example.com/?token=abcdefgh12345678&enterprise_code=M2401234`, "database UUID"],
    ["x".repeat(5000), "longer than"],
  ] as Array<[string, string]>).map(([raw, words]): [string, string] => [words, raw]))("refused with a sentence saying %p, never the token itself", (words, raw) => {
    let err: unknown;
    try { parseConnectionToken(raw); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TokenError);
    expect((err as TokenError).code).toBe("ERR_IOT_ODOO_TOKEN_INVALID");
    expect((err as Error).message).toContain(words);
    expect((err as Error).message).not.toContain("abcdefgh12345678");
  });
});

describe("a malformed or huge connection_token (iotbox.conf, a paste over the settings)", () => {
  const parsesOrTokenError = (raw: string) => {
    try { parseConnectionToken(raw); } catch (e) { expect(e).toBeInstanceOf(TokenError); }
  };
  test("any text: a Connection or a TokenError, nothing else thrown", () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }),
      fc.array(fc.oneof(fc.constant("|"), fc.constant("https://a.example?token="), fc.constant(UUID), fc.string({ maxLength: 20 })), { maxLength: 8 }).map((a) => a.join(""))), parsesOrTokenError), { numRuns: 2000 });
  });
  test("megabytes: refused at once by its length, the token never echoed", () => {
    const huge = `https://shop.example.com?token=${"a".repeat(2_000_000)}&db_uuid=${UUID}&enterprise_code=M2401234`;
    const t0 = performance.now();
    expect(() => parseConnectionToken(huge)).toThrow(TokenError);
    expect(performance.now() - t0).toBeLessThan(200);
    try { parseConnectionToken(huge); } catch (e) { expect((e as Error).message.length).toBeLessThan(200); }
  });
});
