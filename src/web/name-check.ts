/**
 * The technician's own device (the seed's "the homepage opens on the IP but not on the name"):
 * the box's own DNS view may differ from the technician's (a phone on mobile data, a VPN, the
 * browser's secure DNS). Only that browser can tell whether *it* resolves and reaches the box's
 * HTTPS name, so the homepage, opened on the box's IP, asks it to fetch
 * `https://<name>/api/name-check`; the box lets exactly its own IP origin read the answer (CORS).
 * When the fetch fails the page says so beside the HTTPS link, and when the box's own diagnosis
 * found the router blocking the name, the two findings are one block.
 *
 * The same script keeps the page counted as open while it is (it asks /api/status every 5 s while
 * a code is shown, every 30 s otherwise: each is a visit, so the box re-checks quickly) and
 * reloads when the diagnosis changes.
 */
import { Hono } from "hono";
import { html, raw } from "hono/html";
import type { Status } from "./status";

export const NAME_CHECK_PATH = "/api/name-check";
const REBIND = "ERR_IOT_DNS_REBIND_BLOCKED";

export interface NameCheckAppOptions {
  boxId: () => string;
  /** The box's LAN IPv4: the origin http(s)://<ip>[:port] is the only one allowed to read the answer. */
  lanIp: () => string | null;
}

/** GET → `{ box }` (so the page knows the name reached this very box); OPTIONS for a preflight. */
export function createNameCheckApp(o: NameCheckAppOptions): Hono {
  const app = new Hono();
  const allowedOrigin = (origin: string | undefined): string | null => {
    const ip = o.lanIp();
    if (!origin || !ip) return null;
    let u: URL;
    try { u = new URL(origin); } catch { return null; }
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname === ip && u.origin === origin ? origin : null;
  };
  const cors = (origin: string | undefined, extra: Record<string, string> = {}) => {
    const ok = allowedOrigin(origin);
    return { vary: "Origin", "cache-control": "no-store", ...(ok ? { "access-control-allow-origin": ok, ...extra } : {}) };
  };
  app.get("/", (c) => c.json({ box: o.boxId() }, 200, cors(c.req.header("origin"))));
  app.options("/", (c) => {
    const pna: Record<string, string> = c.req.header("access-control-request-private-network") === "true" ? { "access-control-allow-private-network": "true" } : {};
    return c.body(null, 204, cors(c.req.header("origin"), { "access-control-allow-methods": "GET", "access-control-max-age": "600", ...pna }));
  });
  return app;
}

export interface NameCheckWords {
  checking: string; ok: string; failTitle: string; failText: string; fix: string; boxFine: string;
  blockedTitle: string; blockedToo: string; blockedButHere: string; otherBox: string;
}
export const NAME_CHECK_WORDS: { en: NameCheckWords; es: NameCheckWords } = {
  en: {
    checking: "Checking whether this device reaches the secure address…",
    ok: "This device reaches the secure address.",
    failTitle: "This device cannot open the secure address",
    failText: "This device, or the network it uses, cannot resolve or reach {name}.",
    fix: "Change one of these: the router's DNS (a public DNS server, or allow the box's domain), this device's DNS setting, or the browser's secure DNS setting (\"Use secure DNS\").",
    boxFine: "The box itself is fine if its own diagnosis is clean.",
    blockedTitle: "The router's DNS blocks the box's name",
    blockedToo: "This device cannot open {name} either: it asks the same DNS.",
    blockedButHere: "This device does reach {name} (it uses another DNS); other devices on this network may not.",
    otherBox: "{name} answers, but from another box ({id}): the name points to a different address on this network.",
  },
  es: {
    checking: "Comprobando si este dispositivo llega a la dirección segura…",
    ok: "Este dispositivo llega a la dirección segura.",
    failTitle: "Este dispositivo no puede abrir la dirección segura",
    failText: "Este dispositivo, o la red que usa, no puede resolver ni alcanzar {name}.",
    fix: "Cambia una de estas cosas: el DNS del router (un servidor DNS público, o permite el dominio de la caja), el DNS de este dispositivo, o el ajuste de DNS seguro del navegador («Usar DNS seguro»).",
    boxFine: "La caja en sí está bien si su propio diagnóstico no encuentra nada.",
    blockedTitle: "El DNS del router bloquea el nombre de la caja",
    blockedToo: "Este dispositivo tampoco puede abrir {name}: usa el mismo DNS.",
    blockedButHere: "Este dispositivo sí llega a {name} (usa otro DNS); otros dispositivos de esta red quizá no.",
    otherBox: "{name} responde, pero desde otra caja ({id}): el nombre apunta a otra dirección en esta red.",
  },
};

/** The page shows the rebinding finding inside the name check (one block), not as its own banner. */
export const shownByNameCheck = (s: Status, code: string) => code === REBIND && !!s.cert.url && !s.cert.code;

/** The page's Content-Security-Policy with the box's HTTPS name allowed for fetch (else as app.ts sets it). */
export function nameCheckCsp(url: string | null): string | null {
  if (!url) return null;
  let origin: string;
  try { origin = new URL(url).origin; } catch { return null; }
  return `default-src 'self'; connect-src 'self' ${origin}; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'`;
}

/** The block beside the HTTPS link: filled by the script once the browser has tried the name. */
export function nameCheckSlot(s: Status, w: NameCheckWords, go = false) {
  if (!s.cert.url) return "";
  const rebind = s.diagnostics.find((d) => d.code === REBIND) as (Status["diagnostics"][number] & { meaning?: string; remedy?: string }) | undefined;
  const url = new URL(s.cert.url);
  const zone = url.hostname.split(".").slice(1).join(".");
  // The name where {name} stands, cut only after a dot on a narrow phone (not at its dashes:
  // "192-168-1-" / "10…" reads as another address). The host has only [a-z0-9.:-].
  const shown = raw(url.host.replace(/[^a-z0-9.:-]/gi, "").split(".").map((l) => l.replaceAll("-", "\u2011")).join(".<wbr>"));
  const say = (t: string) => { const [a, b] = t.split("{name}"); return b === undefined ? t : html`${a}<span class="nc-name">${shown}</span>${b}`; };
  return html`<div id="namecheck" class="namecheck" data-url="${s.cert.url}" data-box="${s.box.id}" data-rebind="${rebind ? "1" : ""}"${go ? raw(' data-go="1"') : ""}>
${rebind ? html`<div class="nc-block"><strong>${w.blockedTitle}</strong><span class="code">${REBIND}</span><p>${rebind.meaning ?? ""}</p>${rebind.remedy ? html`<p>${rebind.remedy.replace(/<zon[ea]>/g, zone)}</p>` : ""}<p class="nc-too" hidden>${say(w.blockedToo)}</p><p class="nc-here" hidden>${say(w.blockedButHere)}</p></div>` : ""}
<p class="nc-status mute" role="status">${w.checking}</p>
<div class="nc-fail" role="alert" hidden><strong>${w.failTitle}</strong><p>${say(w.failText)}</p><p>${w.fix}</p><p class="mute">${w.boxFine}</p></div>
<p class="nc-other" hidden>${say(w.otherBox)}</p>
<p class="nc-ok" hidden>✓ ${w.ok}</p></div>
<style>.namecheck{margin-top:10px;color:var(--ink)}.namecheck p{margin:6px 0}.nc-fail,.nc-block{border:1px solid #f3c2bd;background:var(--errbg);border-radius:10px;padding:10px 12px;margin-top:8px}.nc-fail strong,.nc-block strong{color:var(--err)}.nc-ok{color:var(--ok)}.nc-name{font-weight:600}</style>`;
}

/**
 * The script: the name check (only when the page is not already on the name) and the status poll.
 * `codes`: the diagnosis as rendered, so that the page reloads when it changes.
 */
export function homepageWatch(s: Status) {
  const codes = s.diagnostics.map((d) => d.code).sort().join(",");
  const cfg = JSON.stringify({ codes }).replace(/</g, "\\u003c");
  return raw(`<script>(function(){var cfg=${cfg};
var el=document.getElementById('namecheck');
if(el){var url=el.dataset.url,box=el.dataset.box,rebind=!!el.dataset.rebind,st=el.querySelector('.nc-status');
 var show=function(sel){var n=el.querySelector(sel);if(n)n.hidden=false;return n};
 if(location.hostname===new URL(url).hostname){st.hidden=true}else{
  var ctl=new AbortController(),t=setTimeout(function(){ctl.abort()},5000);
  var done=function(ok,other){clearTimeout(t);st.hidden=true;el.dataset.result=other?'other':ok?'ok':'fail';
   if(ok&&!other&&el.dataset.go){location.replace(url+'/');return}
   if(rebind){show(ok?'.nc-here':'.nc-too');return}
   if(other){var o=show('.nc-other');o.lastChild.textContent=o.lastChild.textContent.replace('{id}',other);return}
   show(ok?'.nc-ok':'.nc-fail');
   // "All good" above speaks of the box; beside a device that cannot reach it, the block below says that part.
   var all=el.parentNode.querySelector('p');if(!ok&&all&&!el.contains(all))all.hidden=true};
  fetch(url+'${NAME_CHECK_PATH}',{mode:'cors',cache:'no-store',credentials:'omit',signal:ctl.signal}).then(function(r){return r.json()}).then(function(j){done(true,j&&j.box!==box?String(j.box):'')}).catch(function(){done(false,'')})}}
function poll(){fetch('/api/status',{cache:'no-store'}).then(function(r){return r.json()}).then(function(x){var c=(x.diagnostics||[]).map(function(d){return d.code}).sort().join(',');
 if(c!==cfg.codes){location.replace(location.pathname+location.search);return}setTimeout(poll,c?5000:30000)}).catch(function(){setTimeout(poll,30000)})}
setTimeout(poll,cfg.codes?5000:30000)})();</script>`);
}
