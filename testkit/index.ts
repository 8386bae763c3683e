// The shared test harness: a test CA, Pebble, the DNSimple double, and the whole fleet wired.
// See testkit/README.md.
export { createTestCA, type TestCA, type IssuedCert } from "./ca";
export { startPebble, type Pebble, type PebbleOptions } from "./pebble";
export { startDnsimpleDouble, type DnsimpleDouble, type DnsimpleDoubleOptions, type Fault, type ZoneRecord } from "./dnsimple-double";
export { startFleet, type Fleet, type FleetOptions, type Credentials } from "./fleet";
export { freePort, waitFor } from "./ports";
export { startPostgres, type Postgres } from "./postgres";
