/**
 * `iotbox diagnose [--json] [--lang es] [--watch]` (and the options of every command, main.ts): run
 * the probes now with the box's configuration and print the report.
 * Exit code: 0 nothing wrong, 1 a cause was found, 2 bad usage.
 * Test and field options: --ca-file PEM, --clock-sync-file PATH, --resolv-conf PATH.
 */
import { readFileSync } from "node:fs";
import { createLogger } from "../log/index";
import { describe, REGISTRY, type Lang } from "./codes";
import { createDiagnostics, type Schedule } from "./daemon";
import type { DiagnosticsTargets } from "./plan";
import type { HostIOOptions } from "./probes";
import { PROBE_IDS, type Report } from "./report";

const USAGE = "usage: iotbox diagnose [--json] [--lang en|es] [--watch] [--ca-file PEM] [--clock-sync-file PATH] [--resolv-conf PATH]";

export interface CommandIO {
  out: (s: string) => void; err: (s: string) => void; hostIO?: HostIOOptions;
  /** --watch: schedule overrides (the stand-alone cli.ts, for the lab). */
  schedule?: Partial<Schedule>;
  /** --watch: lines "visit" (the homepage was opened) and "cert-failed" (a certificate request failed), e.g. from stdin. */
  commands?: AsyncIterable<string>;
}

export function parseDiagnoseArgs(argv: string[]): { json: boolean; watch: boolean; lang: Lang; host: HostIOOptions } | string {
  const r = { json: false, watch: false, lang: "en" as Lang, host: {} as HostIOOptions };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${a} needs a value`); return v; };
    try {
      if (a === "--json") r.json = true;
      else if (a === "--watch") r.watch = true;
      else if (a === "--lang") { const l = val(); if (l !== "en" && l !== "es") return `unknown language "${l}"`; r.lang = l; }
      else if (a === "--ca-file") { const p = val(); try { r.host.ca = readFileSync(p, "utf8"); } catch { return `cannot read CA file ${p}`; } }
      else if (a === "--clock-sync-file") r.host.clockSyncFile = val();
      else if (a === "--resolv-conf") r.host.resolvConf = [val()];
      else return `unknown option "${a}"`;
    } catch (e) { return (e as Error).message; }
  }
  return r;
}

export function formatReport(rep: Report, lang: Lang): string {
  const mark = { ok: " ok ", failed: "FAIL", not_checked: " -- " } as const;
  const lines = [`diagnosis ${rep.finishedAt} (${rep.durationMs} ms)`];
  for (const id of PROBE_IDS) {
    const p = rep.probes[id];
    lines.push(`  [${mark[p.status]}] ${id.padEnd(10)} ${p.status === "not_checked" ? "not checked: " : ""}${p.detail}`);
  }
  for (const pr of rep.problems) lines.push(`  configuration: ${pr}`);
  if (!rep.codes.length) lines.push(lang === "es" ? "Sin problemas de red." : "No network problem found.");
  for (const c of rep.codes) {
    const t = describe(c, lang);
    lines.push("", `${c} (${REGISTRY[c].severity}, LED ${REGISTRY[c].led}): ${t.title}`, `  ${t.meaning}`,
      ...(rep.details[c] ? [`  ${lang === "es" ? "visto" : "seen"}: ${rep.details[c]}`] : []), `  → ${t.remedy}`);
  }
  return lines.join("\n");
}

export async function diagnoseCommand(argv: string[], targets: DiagnosticsTargets, io: CommandIO = {
  out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n"),
}): Promise<number> {
  const args = parseDiagnoseArgs(argv);
  if (typeof args === "string") { io.err(`${args}\n${USAGE}`); return 2; }
  const logger = createLogger({ write: (l) => io.err(l), level: "warn" });
  let runs = 0;
  const emit = (r: Report) => io.out(JSON.stringify({ at: r.finishedAt, run: ++runs, kind: r.kind, active: diag.current().active.map((a) => a.code),
    codes: r.codes, details: r.details, ms: r.durationMs, sent: r.sent }));
  const diag = createDiagnostics({ targets: () => targets, logger, hostIO: { ...args.host, ...io.hostIO }, schedule: io.schedule,
    onReport: (r) => { if (args.watch && args.json) emit(r); } });
  if (!args.watch) {
    const rep = await diag.runNow();
    io.out(args.json ? JSON.stringify({ ...rep, targets }) : formatReport(rep, args.lang));
    return rep.codes.length ? 1 : 0;
  }
  if (io.commands) void (async () => {
    for await (const line of io.commands!) {
      if (line.trim() === "visit") diag.visit();
      else if (line.trim() === "cert-failed") diag.certificateFailed();
    }
  })();
  // --watch: the daemon's behaviour (hold times, re-runs on change). With --json one line per
  // run (shown codes, codes of this run, what it sent); without, one text line per change.
  diag.onChange(() => { if (!args.json) io.out(`${new Date().toISOString()} active: ${diag.current().active.map((a) => a.code).join(", ") || "none"}`); });
  diag.start();
  await new Promise<void>((resolve) => {
    const stop = () => { diag.stop(); resolve(); };
    process.once("SIGTERM", stop); process.once("SIGINT", stop);
  });
  return 0;
}
