/**
 * The runtime side of system updates: the daily look at the vendor's channel, the resumable
 * download, the check of the bundle (check.ts) before RAUC writes the other slot, and the reboot
 * into it at a quiet time, never during a payment. The image does the rest (trial boot, health
 * check, commit or rollback) and leaves its verdict in <os update dir>/result (result.ts).
 * The composition root gives it its adapters; nothing runs before start().
 */
import { join } from "node:path";
import { readFileSync, unlinkSync } from "node:fs";
import type { Logger } from "../log/index";
import type { UpdateHostPaths } from "../host/paths";
import { UPDATE_CODES, UpdateError, type UpdateCode } from "./codes";
import { decideBundle, type BundleInfo } from "./check";
import { lookAtChannel } from "./delivery";
import { downloadBundle } from "./download";
import { tryLock } from "./lock";
import { decodeStatus, type Rauc } from "./rauc";
import { readOutcome } from "./result";
import { decideReboot, DEFAULT_QUIET, formatQuietWindow, localMinuteOfDay, nextLookDelay, parseQuietWindow } from "./schedule";
import { openStateStore, type UpdateState } from "./state";
import { parseRelease, type Release } from "./version";

export interface UpdaterDeps {
  paths: UpdateHostPaths;
  statePath: string;
  rauc: Rauc;
  logger: Logger;
  /** The configuration's update settings and the vendor service's base URL. */
  settings: () => { channel: string; base: string; quietHours: string };
  fallbackVersion: string;
  /** True while a terminal is working on a payment or refund (src/terminals). */
  paymentInFlight: () => boolean;
  /** Runs /usr/lib/iotbox/update-reboot; resolves false when it failed (the box did not reboot). */
  reboot: () => Promise<boolean>;
  now?: () => Date;
  random?: () => number;
  minuteOfDay?: (d: Date) => number;
  fetch?: typeof fetch;
  /** How often a pending reboot looks for its quiet time. */
  rebootPollMs?: number;
}

export type InstallOutcome = { ok: true; version: string; rebooting: boolean } | { ok: false; code: UpdateCode; message: string };
export type CheckOutcome =
  | { ok: true; available: boolean; version: string; build: number; running: Release; install?: InstallOutcome }
  | { ok: false; code: UpdateCode; message: string };

export function createUpdater(d: UpdaterDeps) {
  const log = d.logger.child({ area: "update" });
  const now = d.now ?? (() => new Date());
  const random = d.random ?? Math.random;
  const minuteOfDay = d.minuteOfDay ?? localMinuteOfDay;
  const store = openStateStore(d.statePath);
  const lockPath = join(d.paths.osUpdateDir, "install.lock");
  const downloadDir = join(d.paths.osUpdateDir, "download");
  let lookTimer: ReturnType<typeof setTimeout> | null = null;
  let rebootTimer: ReturnType<typeof setInterval> | null = null;
  let nextLookAt: string | null = null;
  let busy: "checking" | "downloading" | "installing" | null = null;
  let rebootFailedAt: number | null = null;
  let rebootAskedAt: number | null = null;
  // rauc status (D-Bus, on the box): read at start and after an install, shown as it was then.
  let slots: ReturnType<typeof decodeStatus> = null;
  const readSlots = () => void d.rauc.status().then((j) => { slots = decodeStatus(j); }, () => {});

  // /etc/iotbox-release is on the read-only root: it changes only with the slot, i.e. after a
  // reboot. Read once, not on every /api/status and homepage request.
  let release: Release | null = null;
  const running = (): Release => {
    if (release) return release;
    let text: string | null = null;
    try { text = readFileSync(d.paths.releaseFile, "utf8").slice(0, 4096); } catch {}
    return (release = parseRelease(text, d.fallbackVersion));
  };
  const iso = () => now().toISOString();
  const fail = (code: UpdateCode, detail: string | null): { ok: false; code: UpdateCode; message: string } => {
    const message = UPDATE_CODES[code];
    log.warn("update refused or failed", { code, detail });
    store.update((s) => { s.lastError = { code, message, at: iso() }; });
    return { ok: false, code, message };
  };
  const quiet = () => parseQuietWindow(d.settings().quietHours) ?? DEFAULT_QUIET;

  /** Check a bundle file, then write it to the other slot. The caller holds the lock. */
  async function checkAndInstall(file: string, asap: boolean): Promise<{ ok: true; info: BundleInfo } | { ok: false; code: UpdateCode; message: string }> {
    const verdict = decideBundle(await d.rauc.info(file), running());
    if (!verdict.ok) return fail(verdict.code, verdict.info ? `bundle ${verdict.info.version} (${verdict.info.compatible})` : file);
    busy = "installing";
    log.info("installing update", { version: verdict.info.version, build: verdict.info.build });
    const r = await d.rauc.install(file);
    if (!r.ok) return fail("ERR_IOT_UPDATE_INSTALL_FAILED", `rauc exit ${r.exitCode}`);
    store.update((s) => { s.pendingReboot = { version: verdict.info.version, installedAt: iso(), asap }; s.lastError = null; s.download = null; });
    readSlots();
    return { ok: true, info: verdict.info };
  }

  /** Reboot into the installed slot if allowed now (`asked`: an admin or technician asked, so no quiet time needed). */
  async function maybeReboot(asked: boolean): Promise<boolean> {
    const s = store.get();
    const decision = decideReboot({ pending: !!s.pendingReboot, minuteOfDay: minuteOfDay(now()), window: quiet(), paymentInFlight: d.paymentInFlight(), now: asked || !!s.pendingReboot?.asap });
    if (!decision.reboot) { if (decision.why === "payment-in-flight") log.info("reboot into the update waits for the payment to end"); return false; }
    // A failed update-reboot is not retried every minute by the quiet-time poll: once an hour.
    if (!asked && rebootFailedAt !== null && now().getTime() - rebootFailedAt < 3600_000) return false;
    // update-reboot said yes: the system is going down; do not ask again while it does.
    if (!asked && rebootAskedAt !== null && now().getTime() - rebootAskedAt < 600_000) return false;
    log.info("rebooting into the update", { version: s.pendingReboot!.version });
    const ok = await d.reboot();
    rebootFailedAt = ok ? null : now().getTime();
    if (ok) rebootAskedAt = now().getTime();
    if (!ok) log.error("update-reboot failed; the box stays on its current system");
    return ok;
  }

  async function installFile(file: string, o: { reboot: boolean }): Promise<InstallOutcome> {
    const release = tryLock(lockPath);
    if (!release) return { ok: false, code: "ERR_IOT_UPDATE_BUSY", message: UPDATE_CODES.ERR_IOT_UPDATE_BUSY };
    try {
      const r = await checkAndInstall(file, o.reboot);
      if (!r.ok) return r;
      return { ok: true, version: r.info.version, rebooting: o.reboot ? await maybeReboot(true) : false };
    } finally { busy = null; release(); }
  }

  async function look(o: { install: boolean; asked: boolean }): Promise<CheckOutcome> {
    const s = store.get();
    if (s.held && !o.asked) return { ok: false, code: "ERR_IOT_UPDATE_HELD", message: UPDATE_CODES.ERR_IOT_UPDATE_HELD };
    const cfg = d.settings();
    const rel = running();
    busy = busy ?? "checking";
    let found;
    try {
      found = await lookAtChannel({ base: cfg.base, channel: cfg.channel, running: rel, fetch: d.fetch });
    } catch (e) {
      busy = null;
      const err = e instanceof UpdateError ? e : new UpdateError("ERR_IOT_UPDATE_UNREACHABLE", undefined, (e as Error).message);
      store.update((x) => { x.lastCheck = { at: iso(), channel: cfg.channel, outcome: "failed", version: null }; });
      return fail(err.code, err.detail);
    }
    busy = null;
    const m = found.manifest;
    store.update((x) => { x.lastCheck = { at: iso(), channel: cfg.channel, outcome: found.kind, version: m.version }; if (found.kind === "up-to-date" && x.lastError?.code.startsWith("ERR_IOT_UPDATE_") && !x.pendingReboot) x.lastError = null; });
    log.info("looked at the update channel", { channel: cfg.channel, offered: m.version, build: m.build, outcome: found.kind });
    const base = { ok: true as const, available: found.kind === "available", version: m.version, build: m.build, running: rel };
    if (!o.install || found.kind !== "available") return base;
    // Already written to the other slot, waiting for its reboot: do not write it again.
    const pending = store.get().pendingReboot;
    if (pending && pending.version === m.version) {
      return { ...base, install: { ok: true, version: pending.version, rebooting: await maybeReboot(o.asked) } };
    }
    // A version the box already went back from is not tried again on its own (no daily rollback loop).
    const judged = readOutcome(d.paths.osUpdateDir).result;
    if (!o.asked && judged?.outcome === "rolled-back" && judged.version === m.version) return { ...base, install: fail("ERR_IOT_UPDATE_ROLLED_BACK", m.version) };
    const release = tryLock(lockPath);
    if (!release) return { ...base, install: { ok: false, code: "ERR_IOT_UPDATE_BUSY", message: UPDATE_CODES.ERR_IOT_UPDATE_BUSY } };
    try {
      busy = "downloading";
      let file: string;
      try {
        let lastSaved = 0;
        file = await downloadBundle({ url: m.url, size: m.size, sha256: m.sha256, dir: downloadDir }, { fetch: d.fetch, onProgress: (have, size) => {
          if (have - lastSaved < 1 << 20 && have !== size) return;   // at most one state write per MiB
          lastSaved = have;
          store.update((x) => { x.download = { version: m.version, sha256: m.sha256, have, size, at: iso() }; });
        } });
      } catch (e) {
        const err = e instanceof UpdateError ? e : new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, (e as Error).message);
        return { ...base, install: fail(err.code, err.detail) };
      }
      const r = await checkAndInstall(file, o.asked);
      if (!r.ok) return { ...base, install: r };   // a refused file is kept: the next look re-checks it without downloading it again
      try { unlinkSync(file); } catch {}            // written to the other slot: the data partition gets its space back
      return { ...base, install: { ok: true, version: r.info.version, rebooting: await maybeReboot(o.asked) } };
    } finally { busy = null; release(); }
  }

  function scheduleLook(first: boolean) {
    const ms = nextLookDelay(first, random());
    nextLookAt = new Date(now().getTime() + ms).toISOString();
    lookTimer = setTimeout(() => {
      void look({ install: true, asked: false }).catch((e) => log.error("update look failed", { error: (e as Error).message })).finally(() => scheduleLook(false));
    }, ms);
    lookTimer.unref?.();
  }

  /** An update written before the last boot: running now (or rolled back, says the result file). */
  function settlePending() {
    const s = store.get();
    if (!s.pendingReboot) return;
    const { result } = readOutcome(d.paths.osUpdateDir);
    // The health check names the version it judged; its clock may be behind ours (no RTC before NTP), so the version decides first.
    const decided = !!result && (result.version === s.pendingReboot.version || (!!result.at && result.at > s.pendingReboot.installedAt));
    if (decided || running().version === s.pendingReboot.version) store.update((x) => { x.pendingReboot = null; });
  }

  return {
    running,
    installFile,
    /** A look at the channel now; `install`: also download, install and reboot (an admin asked). */
    check: (o: { install: boolean }) => look({ install: o.install, asked: true }),
    /** The daily look of the daemon (what its timer runs): nothing while held. */
    scheduledLook: () => look({ install: true, asked: false }),
    hold: () => { store.update((s) => { s.held = true; }); log.info("updates held"); },
    resume: () => { store.update((s) => { s.held = false; }); log.info("updates resumed"); },
    state: (): UpdateState => store.get(),
    view: () => updateView({ state: store.get(), running: running(), ...readOutcome(d.paths.osUpdateDir), channel: d.settings().channel, quietHours: formatQuietWindow(quiet()),
      paymentInFlight: d.paymentInFlight(), nextCheckAt: nextLookAt, busy, slots }),
    start() {
      settlePending();
      readSlots();
      scheduleLook(true);
      rebootTimer = setInterval(() => { if (!busy && !store.get().held) void maybeReboot(false); }, d.rebootPollMs ?? 60_000);
      rebootTimer.unref?.();
    },
    stop() { if (lookTimer) clearTimeout(lookTimer); if (rebootTimer) clearInterval(rebootTimer); lookTimer = rebootTimer = null; },
  };
}
export type Updater = ReturnType<typeof createUpdater>;

/** The update section of /api/status, `iotbox status` and the homepage. Never a secret. */
export function updateView(i: { state: UpdateState; running: Release; result: ReturnType<typeof readOutcome>["result"]; trial: ReturnType<typeof readOutcome>["trial"];
  channel: string; quietHours: string; paymentInFlight: boolean; nextCheckAt: string | null; busy: string | null; slots?: { booted: string | null; primary: string | null } | null }) {
  return {
    running: i.running,
    channel: i.channel,
    held: i.state.held,
    lastCheck: i.state.lastCheck,
    nextCheckAt: i.state.held ? null : i.nextCheckAt,
    lastResult: i.result,
    trial: i.trial,
    lastError: i.state.lastError,
    download: i.state.download,
    pendingReboot: i.state.pendingReboot,
    quietHours: i.quietHours,
    paymentInFlight: i.paymentInFlight,
    busy: i.busy,
    /** From `rauc status` when the box's RAUC answered: the booted slot and the primary one. */
    slots: i.slots ?? null,
  };
}
export type UpdateView = ReturnType<typeof updateView>;
