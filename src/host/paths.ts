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
}

export function dataFiles(p: HostPaths): DataFiles {
  return {
    config: join(p.dataDir, "config.json"),
    certDir: join(p.dataDir, "cert"),
    state: join(p.dataDir, "state.json"),
    terminalsDir: join(p.dataDir, "terminals"),
    logDir: join(p.dataDir, "log"),
  };
}

export const bootConfigPath = (p: HostPaths) => join(p.bootDir, "iotbox.conf");
export const ledsDir = (p: HostPaths) => join(p.sysfs, "class", "leds");
/** /proc: the Pi's serial number (the database's identifier of the box). IOTBOX_PROC points it at a fixture. */
export const procDir = (env: Record<string, string | undefined> = process.env) => env.IOTBOX_PROC ?? "/proc";
