import { join } from "node:path";

/**
 * Every host path the runtime touches comes from here, so tests point the whole program at
 * a fixture tree (a fake `/`) by changing the roots.
 */
export interface HostPaths {
  dataDir: string;   // configuration, certificate, key, state
  bootDir: string;   // the FAT boot partition: iotbox.conf
  sysfs: string;     // /sys: LEDs
}

export interface DataFiles {
  config: string;
  certDir: string;
  state: string;
  terminalsDir: string;
  logDir: string;
  /** The updater's own state (src/update/state.ts). */
  update: string;
}

export function dataFiles(p: HostPaths): DataFiles {
  return {
    config: join(p.dataDir, "config.json"),
    certDir: join(p.dataDir, "cert"),
    state: join(p.dataDir, "state.json"),
    terminalsDir: join(p.dataDir, "terminals"),
    logDir: join(p.dataDir, "log"),
    update: join(p.dataDir, "update.json"),
  };
}

export const bootConfigPath = (p: HostPaths) => join(p.bootDir, "iotbox.conf");
export const ledsDir = (p: HostPaths) => join(p.sysfs, "class", "leds");
/** /proc: the Pi's serial number (the database's identifier of the box). IOTBOX_PROC points it at a fixture. */
export const procDir = (env: Record<string, string | undefined> = process.env) => env.IOTBOX_PROC ?? "/proc";

/**
 * What the system image gives the runtime for updates (RAUC, the vendor keyring, the release
 * stamp, the OS data folder where the health check writes its verdict). IOTBOX_HOST_ROOT points
 * them at a fixture tree; IOTBOX_RAUC at another rauc binary.
 */
export interface UpdateHostPaths {
  rauc: string;
  keyring: string;
  releaseFile: string;
  versionFile: string;
  /** `/var/lib/iotbox-os/update`: result, trial, the download folder, the install lock. */
  osUpdateDir: string;
  updateReboot: string;
}

export function updateHostPaths(env: Record<string, string | undefined> = process.env): UpdateHostPaths {
  const root = env.IOTBOX_HOST_ROOT ?? "/";
  return {
    rauc: env.IOTBOX_RAUC ?? join(root, "usr/bin/rauc"),
    keyring: join(root, "etc/rauc/vendor-keyring.pem"),
    releaseFile: join(root, "etc/iotbox-release"),
    versionFile: join(root, "usr/lib/iotbox/VERSION"),
    osUpdateDir: join(root, "var/lib/iotbox-os/update"),
    updateReboot: join(root, "usr/lib/iotbox/update-reboot"),
  };
}
