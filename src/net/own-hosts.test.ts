import { expect, test } from "bun:test";
import { createOwnHosts } from "./own-hosts";

test("the HTTPS name is an own host from the first request after the certificate, without waiting for the 2 s interface cache", () => {
  let name: string | null = null, t = 0, reads = 0;
  const own = createOwnHosts({ lanIp: () => "192.168.1.10", hostname: () => "caja-01", httpsName: () => name, now: () => t,
    interfaces: () => { reads++; return { eth0: [{ address: "192.168.1.10", netmask: "255.255.255.0", family: "IPv4", mac: "b8:27:eb:12:34:56", internal: false, cidr: "192.168.1.10/24" }] }; } });
  expect(own().has("192-168-1-10.d73e7513.iot.test")).toBe(false);
  expect(own().has("caja-01.local")).toBe(true);
  name = "192-168-1-10.d73e7513.iot.test"; // issued now
  t += 10;
  expect(own().has("192-168-1-10.d73e7513.iot.test")).toBe(true);
  expect(reads).toBe(1); // the interfaces were not read again for it
  t += 2500;
  own();
  expect(reads).toBe(2);
});
