/**
 * The box's whole HTTP surface, composed: the gate, the homepage and settings, and the sub-apps
 * (POS API, payment-terminal settings, the Wi-Fi set-up page and the phones' connectivity checks
 * while the access point is open). The runtime and the tests build it the same way.
 */
import { Hono } from "hono";
import type { Logger } from "../log/index";
import type { NetworkSupervisor } from "../network/index";
import { createSetupApp } from "../network/index";
import type { Terminals } from "../terminals/index";
import { allowedMethods, createWebApp, type Mount, type WebDeps } from "./app";
import { csrfGuard, type Auth } from "./auth";
import { createFront } from "./front";
import { createDatabaseLogsApp } from "./log-bundle";
import { createNameCheckApp, NAME_CHECK_PATH } from "./name-check";

/** The set-up access point's own address (NetworkManager's shared mode; the AP's DNS answers every name with it). */
export const AP_PORTAL = "http://10.42.0.1/wifi";
const CAPTIVE_PROBES = ["/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html", "/connecttest.txt", "/ncsi.txt", "/canonical.html", "/success.txt"];

export interface HttpFrontDeps {
  web: Omit<WebDeps, "mounts" | "lifecycle"> & Pick<WebDeps, "lifecycle">;
  terminals: Pick<Terminals, "posApi" | "adminApi"> & Partial<Pick<Terminals, "iotDriversApi">>;
  network: Pick<NetworkSupervisor, "scan" | "configureWifi" | "state"> | null;
  auth: Auth;
  logger: Logger;
  ownHosts: () => ReadonlySet<string>;
  /** The database connection token: the key of the database's signed requests (log download). */
  connectionToken?: () => string | null;
}

export function createHttpFront(d: HttpFrontDeps) {
  const apOpen = () => d.network?.state().mode === "ap";
  const mounts: Mount[] = [
    { path: "/api/pos", app: d.terminals.posApi, admin: false, httpsOnly: () => true },   // bearer token from pairing, CORS for the POS origins
    { path: "/api/terminals", app: d.terminals.adminApi, admin: true },                   // admin session + CSRF header
    // the reference's device protocol for the POS page (CORS: the connected database and the POS origins)
    ...(d.terminals.iotDriversApi ? ["/iot_drivers", "/hw_drivers"].map((path) => ({ path, app: d.terminals.iotDriversApi!, admin: false, httpsOnly: () => true })) : []),
    // the database's IoT app downloads the logs (signed with the connection token)
    ...["/iot_drivers", "/hw_drivers"].map((path) => ({ path, app: createDatabaseLogsApp({ ...d.web, connectionToken: d.connectionToken ?? (() => null) }), admin: false, httpsOnly: () => true })),
    // the homepage on the box's IP asks the technician's browser to fetch this on the HTTPS name (CORS: the IP origin only)
    { path: NAME_CHECK_PATH, app: createNameCheckApp({ boxId: () => d.web.config().boxId, lanIp: () => d.web.lan()?.ipv4 ?? null }), admin: false, httpsOnly: () => false },
  ];
  if (d.network) {
    // The set-up page is open over HTTP only on a box that never had a password (a phone's captive
    // portal cannot accept the placeholder certificate); once a password exists it needs the
    // admin session, hence HTTPS.
    const wifi = new Hono();
    wifi.use("*", csrfGuard(d.auth));
    wifi.route("/", createSetupApp({ supervisor: d.network, isAdmin: (c) => d.auth.isAdmin(c), hasPassword: () => d.auth.hasPassword(), csrfToken: (c) => d.auth.csrfToken(c), loginUrl: "/settings", basePath: "/wifi" }));
    mounts.push({ path: "/wifi", app: wifi, admin: false, httpsOnly: () => d.auth.hasPassword() });
    mounts.push({ path: "/", app: captiveProbes(apOpen), admin: false, httpsOnly: () => false });
  }
  const app = createWebApp({ ...d.web, mounts });
  return createFront({ app, logger: d.logger, ownHosts: d.ownHosts, crossOriginPaths: ["/api/pos", "/iot_drivers", "/hw_drivers"], allowFor: (p) => allowedMethods(app.routes, p), captivePortal: () => (apOpen() ? AP_PORTAL : null) });
}

/** On the access point, phones' connectivity checks are sent to the Wi-Fi set-up page. */
function captiveProbes(apMode: () => boolean): Hono {
  const app = new Hono();
  for (const p of CAPTIVE_PROBES) app.get(p, (c) => (apMode() ? c.redirect("/wifi", 302) : c.notFound()));
  return app;
}
