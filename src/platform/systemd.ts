/**
 * systemd integration through `systemd-notify` (argument arrays, no shell): READY=1 once the
 * HTTPS server listens, WATCHDOG=1 at half the unit's WatchdogSec. The unit needs
 * Type=notify and NotifyAccess=all (the notification comes from a child process).
 */
import type { Logger } from "../log/index";

export function systemdNotifier(env: Record<string, string | undefined>, logger: Logger) {
  const enabled = !!env.NOTIFY_SOCKET;
  const send = (...args: string[]) => {
    if (!enabled) return;
    try { Bun.spawn(["systemd-notify", ...args], { stdout: "ignore", stderr: "ignore" }); } catch (e) {
      logger.warn("systemd-notify failed", { error: (e as Error).message });
    }
  };
  let timer: ReturnType<typeof setInterval> | null = null;
  return {
    ready() { send("--ready", `--pid=${process.pid}`); },
    startWatchdog(healthy: () => boolean) {
      const usec = Number(env.WATCHDOG_USEC ?? 0);
      if (!enabled || !usec) return;
      timer = setInterval(() => { if (healthy()) send(`--pid=${process.pid}`, "WATCHDOG=1"); }, Math.max(1000, usec / 2000));
    },
    stopping() { send("--stopping"); if (timer) clearInterval(timer); },
  };
}
