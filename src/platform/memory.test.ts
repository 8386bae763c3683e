import { expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import { executableMappings, releaseExecutablePages } from "./memory";

test("the executable's mappings are read from a maps text, nothing else", () => {
  const maps = [
    "5581c000-5581d000 r--p 00000000 08:02 1234  /usr/bin/iotbox",
    "5581d000-55a1d000 r-xp 00001000 08:02 1234  /usr/bin/iotbox",
    "55a1d000-55a2d000 rw-p 00201000 08:02 1234  /usr/bin/iotbox",
    "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ",
    "7f0000100000-7f0000200000 r-xp 00000000 08:02 99   /usr/lib/x86_64-linux-gnu/libc.so.6",
    "7f0000200000-7f0000300000 r-xp 00000000 08:02 1235  /usr/bin/iotbox-old (deleted)",
  ].join("\n");
  expect(executableMappings(maps, "/usr/bin/iotbox")).toEqual([
    { start: 0x5581c000, end: 0x5581d000, perms: "r--p" },
    { start: 0x5581d000, end: 0x55a1d000, perms: "r-xp" },
    { start: 0x55a1d000, end: 0x55a2d000, perms: "rw-p" },
  ]);
});

test("releasing hands file pages back and the process goes on (this test's own runtime)", () => {
  const exe = realpathSync("/proc/self/exe");
  const r = releaseExecutablePages();
  expect(r.mappings).toBeGreaterThan(0);
  expect(r.rssAfterMb!).toBeLessThanOrEqual(r.rssBeforeMb!);
  // the code runs on after its pages were given back (they are read again from the file)
  expect(JSON.parse(JSON.stringify({ exe })).exe).toBe(exe);
});
