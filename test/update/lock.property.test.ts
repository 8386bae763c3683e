// The install lock as the field leaves it: garbage, pid 0/1/negative/huge, a live unrelated
// process, a pid reused after a power cut, a directory; processes taking it at once.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootId, ownerAlive, tryLock } from "../../src/update/lock";

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `iotbox-${p}-`));
const RUNS = { numRuns: 300 };
const BUN = process.execPath;

describe("install lock", () => {
  const sleeper = () => Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });

  test("any content in a lock file: judged without a throw; garbage is taken over", () => {
    const d = tmp("lock");
    const p = join(d, "install.lock");
    fc.assert(fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.integer().map(String), fc.constant("")), (raw) => {
      const c = Buffer.from(raw, "latin1").toString("latin1");   // what the file holds (latin1 keeps the low byte)
      expect(typeof ownerAlive(raw, p)).toBe("boolean");
      if (/^\s*\d/.test(c)) return;   // may name a live process of this host
      writeFileSync(p, c, "latin1");
      const rel = tryLock(p);
      expect(rel).not.toBeNull();
      rel!();
      expect(existsSync(p)).toBe(false);
    }), RUNS);
  });

  test("pid 0, negative, huge, pid 1 without a boot, this process's own pid it does not hold (a restart that got the same pid): taken over", () => {
    const d = tmp("lock2");
    const p = join(d, "install.lock");
    for (const c of ["0\n", "-1\n", "-4242\n", "99999999999999999999\n", "1\n", `${process.pid}\n`, `${process.pid} ${bootId()}\n`, "12abc\n", "1e3\n"]) {
      writeFileSync(p, c);
      const rel = tryLock(p);
      expect([c, rel !== null]).toEqual([c, true]);
      rel!();
    }
  });

  test("a live process of this boot keeps the lock (old format too); the same pid written in another boot does not", async () => {
    const d = tmp("lock3");
    const p = join(d, "install.lock");
    const s = sleeper();
    try {
      for (const c of [`${s.pid}\n`, `${s.pid} ${bootId()}\n`]) { writeFileSync(p, c); expect(tryLock(p)).toBeNull(); expect(readFileSync(p, "utf8")).toBe(c); }
      if (bootId() !== "") {
        writeFileSync(p, `${s.pid} 00000000-0000-0000-0000-000000000000\n`);
        const rel = tryLock(p);
        expect(rel).not.toBeNull();
        expect(readFileSync(p, "utf8")).toBe(`${process.pid} ${bootId()}\n`);
        rel!();
      }
    } finally { s.kill(); await s.exited; }
  });

  test("held here: a second take in this process is refused; release is idempotent and only then frees it", () => {
    const p = join(tmp("lock4"), "sub", "install.lock");
    const a = tryLock(p)!;
    expect(a).not.toBeNull();
    expect(tryLock(p)).toBeNull();
    a(); a();
    const b = tryLock(p);
    expect(b).not.toBeNull();
    b!();
  });

  test("a directory where the lock should be: refused, no throw", () => {
    const d = tmp("lock5");
    mkdirSync(join(d, "install.lock"));
    expect(tryLock(join(d, "install.lock"))).toBeNull();
  });

  test("processes taking the lock at once, with stale locks left by crashes: never two holders", async () => {
    const d = tmp("lock6");
    const p = join(d, "install.lock");
    const marker = join(d, "holder");
    const src = join(import.meta.dir, "../../src/update/lock.ts");
    const script = `
      import { tryLock } from ${JSON.stringify(src)};
      import { openSync, closeSync, unlinkSync, writeFileSync } from "node:fs";
      let got = 0, overlap = 0;
      for (let i = 0; i < 400; i++) {
        const rel = tryLock(${JSON.stringify(p)});
        if (!rel) { if (i % 7 === 0) { try { writeFileSync(${JSON.stringify(p)}, "2147483000\\n", { flag: "wx" }); } catch {} } continue; }
        got++;
        try { closeSync(openSync(${JSON.stringify(marker)}, "wx")); } catch { overlap++; }
        for (let k = 0; k < 2000; k++);
        try { unlinkSync(${JSON.stringify(marker)}); } catch {}
        rel();
      }
      console.log(JSON.stringify({ got, overlap }));`;
    const procs = Array.from({ length: 6 }, () => Bun.spawn([BUN, "-e", script], { stdout: "pipe", stderr: "pipe" }));
    const out = await Promise.all(procs.map(async (x) => { const t = await new Response(x.stdout).text(); await x.exited; return JSON.parse(t) as { got: number; overlap: number }; }));
    expect(out.reduce((a, b) => a + b.overlap, 0)).toBe(0);
    expect(out.reduce((a, b) => a + b.got, 0)).toBeGreaterThan(0);
  }, 60_000);
});

