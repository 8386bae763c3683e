/**
 * `iotbox update status [--json] | check [--install] | install FILE [--no-reboot] | hold | resume`.
 * The CLI works on the same files as the daemon (update.json, the install lock), so it needs no
 * daemon; the daemon's view (next look, payment in flight) is used when one answers.
 */
import type { CheckOutcome, InstallOutcome, Updater, UpdateView } from "./index";

export interface CliIO { out: (s: string) => void; err: (s: string) => void; daemonView: () => Promise<UpdateView | null> }

export const UPDATE_USAGE = "usage: iotbox update status [--json] | check [--install] | install FILE [--no-reboot] | hold | resume";

export function formatView(v: UpdateView): string[] {
  const lines = [`running: ${v.running.version}${v.running.build !== null ? ` (build ${v.running.build})` : ""}`,
    `channel: ${v.channel}${v.held ? "  (updates HELD by the administrator)" : ""}`,
    `last check: ${v.lastCheck ? `${v.lastCheck.at} ${v.lastCheck.outcome}${v.lastCheck.version ? ` (channel offers ${v.lastCheck.version})` : ""}` : "never"}${v.nextCheckAt ? `; next ${v.nextCheckAt}` : ""}`];
  if (v.lastResult) lines.push(`last update: ${v.lastResult.line}${v.lastResult.outcome === "rolled-back" ? "\n  the new system did not start correctly: the box went back to the previous one by itself; settings, certificate and payments were kept" : ""}`);
  if (v.slots?.booted) lines.push(`booted slot: ${v.slots.booted}${v.slots.primary ? ` (primary ${v.slots.primary})` : ""}`);
  if (v.trial) lines.push(`trial boot pending: slot ${v.trial.slot}, ${v.trial.version}`);
  if (v.download) lines.push(`download: ${v.download.version} ${v.download.have}/${v.download.size} bytes`);
  if (v.pendingReboot) lines.push(`installed, waiting to reboot: ${v.pendingReboot.version} (quiet hours ${v.quietHours}${v.paymentInFlight ? "; a payment is in progress" : ""})`);
  if (v.lastError) lines.push(`last refusal: ${v.lastError.code}: ${v.lastError.message}`);
  return lines;
}

function printInstall(r: InstallOutcome, io: CliIO): number {
  if (!r.ok) { io.err(`${r.code}: ${r.message}`); return 1; }
  io.out(r.rebooting ? `installed ${r.version}; rebooting into it` : `installed ${r.version}; the box starts it at its next reboot (quiet hours, never during a payment)`);
  return 0;
}

export async function updateCommand(args: string[], flags: Set<string>, u: Updater, io: CliIO): Promise<number> {
  const [sub, file] = args.filter((a) => !a.startsWith("--"));
  switch (sub) {
    case "status": case undefined: {
      const v = (await io.daemonView()) ?? u.view();
      if (flags.has("--json")) io.out(JSON.stringify(v, null, 2)); else for (const l of formatView(v)) io.out(l);
      return 0;
    }
    case "check": {
      const r: CheckOutcome = await u.check({ install: flags.has("--install") });
      if (!r.ok) { io.err(`${r.code}: ${r.message}`); return 1; }
      io.out(r.available ? `available: ${r.version} (build ${r.build}); running ${r.running.version}` : `up to date: running ${r.running.version}; the channel offers ${r.version}`);
      return r.install ? printInstall(r.install, io) : 0;
    }
    case "install": {
      if (!file) { io.err(UPDATE_USAGE); return 2; }
      return printInstall(await u.installFile(file, { reboot: !flags.has("--no-reboot") }), io);
    }
    case "hold": u.hold(); io.out("updates held: the box will not look for, download or install updates until `iotbox update resume`"); return 0;
    case "resume": u.resume(); io.out("updates resumed"); return 0;
    default: io.err(UPDATE_USAGE); return 2;
  }
}
