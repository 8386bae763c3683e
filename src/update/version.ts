/**
 * Which system is newer: the semver core of the version (major.minor.patch; a pre-release or
 * "+g<commit>" suffix does not count), then the build epoch (SOURCE_DATE_EPOCH). Pure.
 */
export interface Release { version: string; build: number | null }

export function semverCore(v: string): [number, number, number] | null {
  const m = /^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:[-+][0-9A-Za-z.+-]*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** -1 older, 0 the same, 1 newer (candidate against running); null when a version cannot be read. */
export function compareReleases(candidate: Release, running: Release): -1 | 0 | 1 | null {
  const a = semverCore(candidate.version), b = semverCore(running.version);
  if (!a || !b) return null;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]! ? 1 : -1;
  // Same core: only a later build is newer. An unknown build on either side cannot prove it.
  if (candidate.build === null || running.build === null) return 0;
  return candidate.build > running.build ? 1 : candidate.build < running.build ? -1 : 0;
}

/** `/etc/iotbox-release` (IOTBOX_VERSION=…, IOTBOX_BUILD_EPOCH=…); the fallbacks when a line is missing. */
export function parseRelease(text: string | null, fallbackVersion: string): Release {
  const get = (k: string) => text?.split("\n").map((l) => l.trim()).find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1).replace(/^"(.*)"$/, "$1") ?? null;
  const v = get("IOTBOX_VERSION");
  const b = get("IOTBOX_BUILD_EPOCH");
  return { version: v && v.length <= 128 ? v : fallbackVersion, build: b && /^\d{1,12}$/.test(b) ? Number(b) : null };
}
