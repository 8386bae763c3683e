// Stamped by scripts/build.ts with `--define IOTBOX_VERSION=…`; a dev run says "dev".
declare const IOTBOX_VERSION: string | undefined;
export const VERSION: string = typeof IOTBOX_VERSION === "string" ? IOTBOX_VERSION : "0.1.0-dev";
