/**
 * The NetworkManager boundary: `nmcli` run with an argument array (never a shell), C locale,
 * terse output, under a timeout. One real implementation; tests replace it with a fake.
 */
import { spawn } from "node:child_process";

export interface NmResult { code: number; stdout: string; stderr: string }
export interface NmCli { run(args: string[]): Promise<NmResult> }

export function realNmcli(o: { bin?: string; timeoutMs?: number } = {}): NmCli {
  return {
    run: (args) => new Promise((resolve) => {
      const p = spawn(o.bin ?? "nmcli", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C", LANG: "C" } });
      let stdout = "", stderr = "";
      const timer = setTimeout(() => { p.kill("SIGKILL"); }, o.timeoutMs ?? 45000);
      p.stdout.on("data", (d) => { stdout += d; });
      p.stderr.on("data", (d) => { stderr += d; });
      p.on("error", (e) => { clearTimeout(timer); resolve({ code: 127, stdout, stderr: e.message }); });
      p.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout, stderr }); });
    }),
  };
}

/** Split one line of `nmcli -t` output: fields are ':'-separated, '\:' and '\\' are escapes. */
export function splitTerse(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "\\" && i + 1 < line.length) { cur += line[++i]!; continue; }
    if (ch === ":") { out.push(cur); cur = ""; continue; }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** Undo the escaping of a single `nmcli -g` value. */
export const unescapeValue = (s: string) => s.replace(/\\(.)/g, "$1");
