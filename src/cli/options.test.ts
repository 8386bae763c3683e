import { expect, test } from "bun:test";
import { parseOptions } from "./options";

test("defaults, environment, then flags", () => {
  expect(parseOptions([], {}).opts).toMatchObject({ dataDir: "/var/lib/iotbox", bootDir: "/boot/firmware", httpPort: 80, httpsPort: 443, sysfs: "/sys" });
  const env = { IOTBOX_DATA_DIR: "/d", IOTBOX_HTTPS_PORT: "8443" };
  expect(parseOptions([], env).opts).toMatchObject({ dataDir: "/d", httpsPort: 8443 });
  const r = parseOptions(["--https-port=9443", "--data-dir", "/x", "--json"], env);
  expect(r.opts).toMatchObject({ dataDir: "/x", httpsPort: 9443 });
  expect(r.flags.has("--json")).toBe(true);
});
test("a bad port is a clear error", () => {
  expect(() => parseOptions(["--http-port", "eighty"], {})).toThrow("--http-port must be a port number");
  expect(() => parseOptions(["--data-dir"], {})).toThrow("--data-dir needs a value");
});
