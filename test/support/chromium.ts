/**
 * Debian's headless Chromium run once per call (`--dump-dom` or `--screenshot`), with a fresh
 * profile and the flags this machine needs (no background networking: the network is closed).
 * A phone's width by default; a run that hangs is killed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function chromium(args: string[], o: { height?: number; budgetMs?: number; killAfterMs?: number } = {}): Promise<string> {
  // An empty --dump-dom is never a page: Chromium dumped while a navigation (a redirect the page
  // itself makes) was still loading, which happens when the machine is busy. Asked again, with
  // more virtual time; any page it then dumps is judged by the test as it is.
  let budget = o.budgetMs ?? 3000;
  for (let attempt = 1; ; attempt++) {
    const out = await chromiumOnce(args, { ...o, budgetMs: budget });
    if (!args.includes("--dump-dom") || out.trim() !== "" || attempt === 3) return out;
    budget *= 2;
  }
}

async function chromiumOnce(args: string[], o: { height?: number; budgetMs?: number; killAfterMs?: number }): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "iotbox-chromium-"));
  try {
    const p = Bun.spawn(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
      `--user-data-dir=${profile}`, `--window-size=390,${o.height ?? 1100}`, `--virtual-time-budget=${o.budgetMs ?? 3000}`, ...args], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => p.kill(), o.killAfterMs ?? 40_000);
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`chromium exited ${code}: ${await new Response(p.stderr).text()}`);
    return out;
  } finally { rmSync(profile, { recursive: true, force: true }); }
}
