import { expect, test } from "bun:test";
import { chooseLanAddress } from "./address";

const a = (address: string, mac = "b8:27:eb:00:00:01", internal = false) => ({ address, netmask: "255.255.255.0", family: "IPv4" as const, mac, internal, cidr: null });

test("prefers Ethernet, skips loopback, link-local and container bridges", () => {
  expect(chooseLanAddress({ lo: [a("127.0.0.1", "", true)], docker0: [a("172.17.0.1")], wlan0: [a("192.168.1.20")], eth0: [a("192.168.1.10")] }))
    .toEqual({ ifname: "eth0", ipv4: "192.168.1.10", mac: "b8:27:eb:00:00:01" });
  expect(chooseLanAddress({ eth0: [a("169.254.3.4")], wlan0: [a("10.0.0.7")] })?.ipv4).toBe("10.0.0.7");
  expect(chooseLanAddress({ lo: [a("127.0.0.1", "", true)] })).toBeNull();
});
