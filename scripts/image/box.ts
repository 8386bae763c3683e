// Talking to a booted box from the host through QEMU's forwarded ports: SSH (key given through
// the Imager customisation), HTTP and HTTPS (verified against a given root, with SNI = the box's
// name, connected to 127.0.0.1). Also the Raspberry Pi Imager firstrun.sh that the tests put on the
// card, in the form Imager writes it.
import { spawn } from "node:child_process";
import { request } from "node:https";
import { join } from "node:path";

export interface Ssh { run(cmd: string, timeoutMs?: number): Promise<{ code: number; out: string }>; sh(cmd: string): Promise<string> }

export function ssh(port: number, keyFile: string, dir: string): Ssh {
  const run = (cmd: string, timeoutMs = 60_000) => new Promise<{ code: number; out: string }>((resolve) => {
    const p = spawn("ssh", ["-i", keyFile, "-p", String(port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
      "-o", "StrictHostKeyChecking=accept-new", "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
      "-o", "LogLevel=ERROR", "root@127.0.0.1", cmd], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d)); p.stderr.on("data", (d) => (out += d));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => { clearTimeout(t); resolve({ code: code ?? -1, out }); });
  });
  return {
    run,
    async sh(cmd) {
      const r = await run(cmd);
      if (r.code !== 0) throw new Error(`ssh ${JSON.stringify(cmd)} → exit ${r.code}: ${r.out}`);
      return r.out.trim();
    },
  };
}

export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined>, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try { const v = await probe(); if (v !== null && v !== undefined) return v; } catch (e) { last = e; }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`);
}

export interface HttpsAnswer { status: number; body: string; fingerprint256: string; subject: string; issuer: string; san: string }

/** GET over HTTPS to 127.0.0.1:port with SNI `servername`, trusting only `ca` (never unverified). */
export function httpsGet(port: number, servername: string, ca: string, path: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, servername, ca, path, method: "GET", timeout: 15_000,
      headers: { host: servername }, agent: false }, (res) => {
      let body = "";
      const cert = (res.socket as unknown as { getPeerCertificate(): Record<string, unknown> }).getPeerCertificate();
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({
        status: res.statusCode ?? 0, body,
        fingerprint256: String(cert.fingerprint256 ?? ""),
        subject: JSON.stringify(cert.subject ?? ""), issuer: JSON.stringify(cert.issuer ?? ""),
        san: String(cert.subjectaltname ?? ""),
      }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

export async function httpJson(port: number, path: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

/** firstrun.sh as Raspberry Pi Imager (1.8, "systemd" customisation) writes it. */
export function imagerFirstrun(o: { hostname: string; sshKey: string; ssid: string; psk: string; country: string; timezone: string }): string {
  const ic = "/usr/lib/raspberrypi-sys-mods/imager_custom";
  return `#!/bin/bash

set +e

CURRENT_HOSTNAME=\`cat /etc/hostname | tr -d " \\t\\n\\r"\`
if [ -f ${ic} ]; then
   ${ic} set_hostname ${o.hostname}
else
   echo ${o.hostname} >/etc/hostname
   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t${o.hostname}/g" /etc/hosts
fi
FIRSTUSER=\`getent passwd 1000 | cut -d: -f1\`
FIRSTUSERHOME=\`getent passwd 1000 | cut -d: -f6\`
if [ -f ${ic} ]; then
   ${ic} enable_ssh -k '${o.sshKey}'
else
   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"
   install -o "$FIRSTUSER" -m 600 <(printf "${o.sshKey}") "$FIRSTUSERHOME/.ssh/authorized_keys"
   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config
   systemctl enable ssh
fi
if [ -f /usr/lib/userconf-pi/userconf ]; then
   /usr/lib/userconf-pi/userconf 'pi' '$5$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDE'
else
   echo "$FIRSTUSER:"'$5$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDE' | chpasswd -e
fi
if [ -f ${ic} ]; then
   ${ic} set_wlan '${o.ssid}' '${o.psk}' '${o.country}'
else
   echo "no wlan"
fi
if [ -f ${ic} ]; then
   ${ic} set_keymap 'fr'
   ${ic} set_timezone '${o.timezone}'
else
   rm -f /etc/localtime
   echo "${o.timezone}" >/etc/timezone
fi
rm -f /boot/firstrun.sh
sed -i 's| systemd.run.*||g' /boot/cmdline.txt
exit 0
`;
}

export const IMAGER_CMDLINE = " systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target";
