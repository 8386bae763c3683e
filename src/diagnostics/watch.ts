/**
 * Network change events: `ip monitor link address route` (netlink, no polling) and changes of
 * the resolver files. Started by the daemon's start(), never at import.
 */
import { spawn } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { dirname, basename } from "node:path";
import type { Logger } from "../log/index";

export type NetworkWatcher = (onChange: (why: string) => void) => () => void;

export function ipMonitorWatcher(logger: Logger, resolvFiles = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"],
  monitor: string[] = ["ip", "monitor", "link", "address", "route"]): NetworkWatcher {
  return (onChange) => {
    let stopped = false;
    let child: ReturnType<typeof spawn> | null = null;
    let restart: ReturnType<typeof setTimeout> | undefined;
    const startMonitor = () => {
      if (stopped) return;
      child = spawn(monitor[0]!, monitor.slice(1), { stdio: ["ignore", "pipe", "ignore"] });
      child.stdout!.on("data", (d: Buffer) => onChange(`netlink: ${d.toString().split("\n")[0]!.slice(0, 120)}`));
      child.on("error", (e) => logger.warn("ip monitor failed", { error: e.message }));
      child.on("exit", () => { child = null; if (!stopped) restart = setTimeout(startMonitor, 5000); });
    };
    startMonitor();
    const watchers: FSWatcher[] = [];
    for (const f of resolvFiles) {
      try {
        // Watch the directory: resolv.conf is usually replaced by rename, not written in place.
        watchers.push(watch(dirname(f), (_ev, name) => { if (name === basename(f)) onChange(`resolver file ${f}`); }));
      } catch { /* the directory does not exist on this host */ }
    }
    return () => {
      stopped = true; clearTimeout(restart);
      child?.kill();
      for (const w of watchers) w.close();
    };
  };
}
