import { expect, test } from "bun:test";
import { createLogger } from "./index";

test("secret fields and registered secret values never reach a line", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  log.redact("M2401234");
  log.info("imported", { enterprise_code: "M2401234", password: "hunter2", note: "code M2401234 used", key: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----" });
  const out = lines.join("\n");
  expect(out).not.toContain("M2401234");
  expect(out).not.toContain("hunter2");
  expect(out).not.toContain("abc");
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "imported", note: "code [redacted] used" });
});
test("levels filter and the ring keeps recent lines", () => {
  const log = createLogger({ write: () => {}, keep: 2, level: "warn" });
  log.info("dropped"); log.warn("a"); log.error("b"); log.error("c");
  expect(log.recent().map((l) => JSON.parse(l).msg)).toEqual(["b", "c"]);
});
