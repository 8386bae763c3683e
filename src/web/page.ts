/**
 * The pages, for a technician on a phone: one column, large touch targets, the state first.
 * Every interpolated value is escaped by hono's `html` template.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Lang } from "../cert/codes";
import { WORDS, type Words } from "./i18n";
import { homepageWatch, nameCheckSlot, shownByNameCheck } from "./name-check";
import type { Status } from "./status";
import { connectCard, odooCard } from "./odoo-card";
import { updateCard } from "./update-card";

type H = HtmlEscapedString | Promise<HtmlEscapedString>;

const CSS = raw(`
:root{--bg:#f4f6f8;--card:#fff;--ink:#1c2430;--mute:#5d6b7a;--ok:#137a3f;--okbg:#e3f5ea;--err:#b3261e;--errbg:#fdecea;--info:#0b5cad;--infobg:#e6f0fb;--line:#dde3ea}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:var(--bg);color:var(--ink)}
header{background:#1f2d3d;color:#fff;padding:14px 16px;display:flex;align-items:center;gap:12px}
header h1{font-size:19px;margin:0;flex:1}header a{color:#cfe3ff;text-decoration:none;font-size:14px;padding:6px 8px;border:1px solid #4a5d73;border-radius:8px}
header a.on{background:#4a5d73;color:#fff}
main{max-width:640px;margin:0 auto;padding:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px;margin:12px 0}
.card h2{font-size:15px;margin:0 0 8px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}
.banner{border-radius:12px;padding:16px;margin:12px 0;border:1px solid}
.banner.ok{background:var(--okbg);border-color:#b7e2c6;color:var(--ok)}.banner.err{background:var(--errbg);border-color:#f3c2bd;color:var(--err)}
.banner.info{background:var(--infobg);border-color:#bcd6f3;color:var(--info)}
.banner strong{display:block;font-size:18px;margin-bottom:4px}.banner p{margin:6px 0;color:var(--ink)}
.code{font:600 15px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all;display:block;margin-bottom:6px}
.url{display:block;margin-top:10px;padding:12px;border-radius:10px;background:#fff;border:1px solid #b7e2c6;font-weight:600;word-break:break-all;color:var(--ok)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 14px;margin:0}dt{color:var(--mute)}dd{margin:0;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
details summary{cursor:pointer;list-style:none;display:flex;align-items:center;gap:8px;font-weight:600}
details summary::-webkit-details-marker{display:none}.cog{font-size:22px;line-height:1}
.btn,button{display:inline-block;font:inherit;font-weight:600;padding:11px 16px;border-radius:10px;border:1px solid #1f2d3d;background:#1f2d3d;color:#fff;text-decoration:none;cursor:pointer;min-height:44px}
.btn.sec,button.sec{background:#fff;color:#1f2d3d}button.danger{background:var(--err);border-color:var(--err)}
form{margin:0}label{display:block;margin:10px 0 4px;color:var(--mute);font-size:14px}
input,select{width:100%;font:inherit;padding:10px 12px;border:1px solid #b8c3cf;border-radius:10px;background:#fff;min-height:44px}
.row{display:flex;gap:10px;flex-wrap:wrap;margin-top:12px}.mute{color:var(--mute);font-size:14px}
ul.problems{margin:0;padding-left:20px}.spin{display:inline-block;width:14px;height:14px;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:s 1s linear infinite;vertical-align:-2px;margin-right:6px}
@keyframes s{to{transform:rotate(360deg)}}
`);

/** `poll`: the page shows a check in progress; it watches /api/status and reloads only when the outcome differs. */
export function layout(lang: Lang, title: string, body: H, opts: { poll?: { code: string | null; url: string | null } } = {}): H {
  const other: Lang = lang === "en" ? "es" : "en";
  return html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${CSS}</style></head><body>
<header><h1>${title}</h1><a href="?lang=en" class="${lang === "en" ? "on" : ""}">EN</a><a href="?lang=${other === "es" ? "es" : "en"}" class="${lang === "es" ? "on" : ""}">ES</a></header>
<main>${body}</main>
${opts.poll ? raw(`<script>(function(){var was=${JSON.stringify(opts.poll).replace(/</g, "\\u003c")},n=0;function p(){fetch('/api/status',{cache:'no-store'}).then(function(r){return r.json()}).then(function(s){if(s.cert.checking&&++n<90){setTimeout(p,1000);return}if(s.cert.code!==was.code||s.cert.url!==was.url){location.replace(location.pathname+location.search)}}).catch(function(){if(++n<90)setTimeout(p,2000)})}setTimeout(p,1000)})();</script>`) : ""}
</body></html>`;
}

const fmtDate = (iso: string | null, lang: Lang) => iso ? new Date(iso).toLocaleString(lang === "es" ? "es-ES" : "en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC" : "—";
function fmtUptime(s: number): string {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

function banner(s: Status, w: Words, go = false): H {
  const c = s.cert;
  if (c.code) {
    const causes = s.diagnostics.filter((d) => d.severity === "error");
    return html`<section class="banner err" role="alert"><strong>${c.checking ? html`<span class="spin"></span>` : ""}${c.serving === "real" ? w.certificate : w.noHttps}</strong>
<span class="code">${c.code}</span><p>${c.meaning}</p><p><b>${w.whatToDo}:</b> ${c.remedy}</p>
${c.detail ? html`<p class="mute">${w.detail}: ${c.detail}</p>` : ""}
${causes.map((d) => html`<p><b>${w.causeFound}:</b> <span class="code">${d.code}</span>${(d as { meaning?: string }).meaning ?? ""} ${(d as { remedy?: string }).remedy ? html`<br><b>${w.whatToDo}:</b> ${(d as { remedy?: string }).remedy}` : ""}${d.detail ? html`<br><span class="mute" style="overflow-wrap:anywhere">${w.detail}: ${d.detail}</span>` : ""}</p>`)}
</section>`;
  }
  if (c.checking && !c.url) return html`<section class="banner info" role="status"><strong><span class="spin"></span>${w.checking}</strong></section>`;
  if (c.url) return html`<section class="banner ok" role="status"><strong>${w.httpsReady}</strong>${s.diagnostics.length === 0 ? html`<p>${w.all}</p>` : ""}<a class="url" href="${c.url}">${c.url}</a>${nameCheckSlot(s, w.nameCheck, go)}</section>`;
  return html`<section class="banner info" role="status"><strong>${w.noHttps}</strong>${c.checking ? html`<p><span class="spin"></span>${w.checking}</p>` : ""}</section>`;
}

export interface TerminalRow { id: string; address: string; poiid: string; state: string; lastError?: string }

/** `goToName`: once this browser has reached the box's HTTPS name, the page moves there. */
/** `admin`: a logged-in admin over HTTPS (the update card's buttons carry its CSRF token). */
export function homePage(s: Status, lang: Lang, terminals: TerminalRow[] | null, o: { goToName?: boolean; admin?: { csrf: string } | null } = {}): H {
  const w = WORDS[lang];
  const c = s.cert;
  const sys = s.system;
  const body = html`${banner(s, w, o.goToName)}
${s.diagnostics.filter((d) => (d.severity !== "error" || !c.code) && !shownByNameCheck(s, d.code)).map((d) => html`<section class="banner info"><span class="code">${d.code}</span><p>${(d as { meaning?: string }).meaning ?? ""}</p>${(d as { remedy?: string }).remedy ? html`<p><b>${w.whatToDo}:</b> ${(d as { remedy?: string }).remedy}</p>` : ""}${d.detail ? html`<p class="mute" style="overflow-wrap:anywhere">${w.detail}: ${d.detail}</p>` : ""}</section>`)}
${s.setupProblems.length ? html`<section class="card"><h2>${w.setupProblems}</h2><ul class="problems">${s.setupProblems.map((p) => html`<li>${p}</li>`)}</ul></section>` : ""}
<section class="card"><h2>${w.box}</h2><dl>
<dt>${w.id}</dt><dd>${s.box.id}</dd><dt>${w.hostname}</dt><dd>${s.box.hostname}</dd>
<dt>${w.ip}</dt><dd>${s.box.ip ?? w.unknown}</dd><dt>${w.mac}</dt><dd>${s.box.mac ?? w.unknown}</dd><dt>${w.version}</dt><dd>${s.box.version}</dd>
</dl></section>
${odooCard(s.odoo, lang, s.odoo?.pairing ?? null)}
${updateCard(s.update, lang, o.admin ?? null)}
<section class="card"><details id="cert"><summary><span class="cog" aria-hidden="true">⚙</span>${w.certificate}</summary><dl style="margin-top:10px">
${c.subject ? html`<dt>${w.subject}</dt><dd>${c.subject}</dd><dt>${w.issuer}</dt><dd>${c.issuer}</dd><dt>${w.validFrom}</dt><dd>${fmtDate(c.notBefore, lang)}</dd><dt>${w.validUntil}</dt><dd>${fmtDate(c.notAfter, lang)}</dd>` : ""}
<dt>${w.lastCheck}</dt><dd>${fmtDate(c.lastCheckAt, lang)}</dd><dt>${w.nextCheck}</dt><dd>${fmtDate(c.nextCheckAt, lang)}</dd>
</dl>${c.serving === "temporary" ? html`<p class="mute">${w.servingTemporary}</p>` : ""}</details></section>
<section class="card"><h2>${w.system}</h2><dl>
<dt>${w.cpuTemp}</dt><dd>${sys.cpuTempC !== null ? `${sys.cpuTempC} °C` : "—"}</dd>
<dt>${w.memory}</dt><dd>${sys.memUsedPct !== null ? `${sys.memUsedPct} % / ${sys.memTotalMb} MB` : "—"}</dd>
<dt>${w.disk}</dt><dd>${sys.diskUsedPct !== null ? `${sys.diskUsedPct} %` : "—"}</dd>
<dt>${w.uptime}</dt><dd>${fmtUptime(sys.uptimeS)}</dd></dl></section>
${terminals ? html`<section class="card"><h2>${w.terminals}</h2>${terminals.length ? html`<dl>${terminals.map((t) => html`<dt>${t.poiid}</dt><dd>${t.address} — ${t.state}${t.lastError ? ` (${t.lastError})` : ""}</dd>`)}</dl>` : html`<p class="mute">${w.noTerminals}</p>`}</section>` : ""}
<div class="row"><a class="btn" href="/settings?lang=${lang}">⚙ ${w.settings}</a></div>`;
  return layout(lang, `${w.title} ${s.box.id}`, html`${body}${homepageWatch(s)}`, c.checking ? { poll: { code: c.code, url: c.url } } : {});
}

export function loginPage(lang: Lang, csrf: string, mode: "login" | "choose", message?: string): H {
  const w = WORDS[lang];
  const body = mode === "choose"
    ? html`<section class="card"><h2>${w.choosePassword}</h2><p>${w.choosePasswordHelp}</p>${message ? html`<p class="banner err">${message}</p>` : ""}
<form method="post" action="/settings/password/initial?lang=${lang}"><input type="hidden" name="_csrf" value="${csrf}">
<label for="pw">${w.newPassword}</label><input id="pw" name="password" type="password" autocomplete="new-password" minlength="8" required>
<div class="row"><button type="submit">${w.save}</button><a class="btn sec" href="/?lang=${lang}">${w.back}</a></div></form></section>`
    : html`<section class="card"><h2>${w.login}</h2>${message ? html`<p class="banner err">${message}</p>` : ""}
<form method="post" action="/login?lang=${lang}"><input type="hidden" name="_csrf" value="${csrf}">
<label for="pw">${w.password}</label><input id="pw" name="password" type="password" autocomplete="current-password" required>
<div class="row"><button type="submit">${w.login}</button><a class="btn sec" href="/?lang=${lang}">${w.back}</a></div></form></section>`;
  return layout(lang, `${w.title} — ${w.settings}`, body);
}

export interface SettingsView { dbUuid: string; hasEnterpriseCode: boolean; serverUrl: string; provisioningUrl: string; logLevel: string; odoo?: Status["odoo"] }

export function settingsPage(lang: Lang, csrf: string, v: SettingsView, message?: { ok: boolean; text: string }): H {
  const w = WORDS[lang];
  const tok = html`<input type="hidden" name="_csrf" value="${csrf}">`;
  const body = html`${message ? html`<section class="banner ${message.ok ? "ok" : "err"}" role="status">${message.text}</section>` : ""}
${connectCard(lang, csrf, v.odoo)}
<section class="card"><h2>${w.credential}</h2><form method="post" action="/settings/credential?lang=${lang}">${tok}
<label for="db">${w.dbUuid}</label><input id="db" name="db_uuid" value="${v.dbUuid}" autocomplete="off" spellcheck="false">
<label for="ec">${w.enterpriseCode}</label><input id="ec" name="enterprise_code" type="password" autocomplete="off" placeholder="${v.hasEnterpriseCode ? w.keepSecret : ""}">
<div class="row"><button type="submit">${w.save}</button></div></form></section>
<section class="card"><h2>${w.server}</h2><form method="post" action="/settings/server?lang=${lang}">${tok}
<label for="su">${w.serverUrl}</label><input id="su" name="server_url" type="url" value="${v.serverUrl}" spellcheck="false">
<label for="pu">${w.provisioningUrl}</label><input id="pu" name="provisioning_url" type="url" value="${v.provisioningUrl}" spellcheck="false">
<div class="row"><button type="submit">${w.save}</button></div></form></section>
<section class="card"><h2>${w.logLevel}</h2><form method="post" action="/settings/log-level?lang=${lang}">${tok}
<select name="log_level" aria-label="${w.logLevel}">${["debug", "info", "warn", "error"].map((l) => html`<option value="${l}" ${l === v.logLevel ? "selected" : ""}>${l}</option>`)}</select>
<div class="row"><button type="submit">${w.save}</button><a class="btn sec" href="/settings/logs">${w.downloadLogs}</a></div></form></section>
<section class="card"><h2>${w.changePassword}</h2><form method="post" action="/settings/password?lang=${lang}">${tok}
<label for="cp">${w.currentPassword}</label><input id="cp" name="current_password" type="password" autocomplete="current-password" required>
<label for="np">${w.newPassword}</label><input id="np" name="password" type="password" autocomplete="new-password" minlength="8" required>
<div class="row"><button type="submit">${w.save}</button></div></form></section>
${terminalsSettings(lang, csrf)}
<div class="row"><form method="post" action="/settings/restart?lang=${lang}">${tok}<button class="danger" type="submit">${w.restart}</button></form>
<form method="post" action="/logout?lang=${lang}">${tok}<button class="sec" type="submit">${w.logout}</button></form><a class="btn sec" href="/?lang=${lang}">${w.back}</a></div>`;
  return layout(lang, `${w.title} — ${w.settings}`, body);
}

/** The reasons src/admin/credentials.ts gives, for the Spanish page. */
const LOCK_REASONS_ES: Record<string, string> = {
  "the stored admin password could not be read": "la contraseña de administrador guardada no se puede leer",
  "the stored admin password is missing": "falta la contraseña de administrador guardada",
  "the box holds payment-terminal settings but no admin password": "la caja tiene ajustes de terminales de pago pero ninguna contraseña de administrador",
};

/** The settings of a box that had an admin password and lost it: only the card can open them again. */
export function lockedPage(lang: Lang, reason: string | null): H {
  const w = WORDS[lang];
  return layout(lang, `${w.title} — ${w.settings}`, html`<section class="banner err" role="alert"><strong>${w.lockedTitle}</strong>
<p>${w.lockedHelp}</p><p class="code">admin_password = …</p>${reason ? html`<p class="mute">${w.detail}: ${LOCK_REASONS_ES[reason.split(" (")[0]!] && lang === "es" ? LOCK_REASONS_ES[reason.split(" (")[0]!] : reason}</p>` : ""}</section>
<div class="row"><a class="btn sec" href="/?lang=${lang}">${w.back}</a></div>`);
}

export function messagePage(lang: Lang, text: string): H {
  return layout(lang, WORDS[lang].title, html`<section class="banner info">${text}</section><div class="row"><a class="btn sec" href="/">${WORDS[lang].back}</a></div>`);
}

/**
 * Payment terminals in the settings: the list with Test and Remove, an Add form, the POS
 * origins and POS pairing. It drives the JSON admin API (/api/terminals) with the CSRF header.
 */
function terminalsSettings(lang: Lang, csrf: string): H {
  const es = lang === "es";
  const t = {
    title: es ? "Terminales de pago" : "Payment terminals", add: es ? "Añadir terminal" : "Add a terminal",
    address: es ? "Dirección IP del terminal" : "Terminal IP address", poiid: "POIID (P400Plus-275039202)",
    keyId: es ? "Identificador de clave" : "Key identifier", keyVer: es ? "Versión de clave" : "Key version",
    pass: es ? "Frase de contraseña" : "Passphrase", origins: es ? "Orígenes del TPV (uno por línea)" : "POS origins (one per line)",
    pair: es ? "Emparejar un TPV" : "Pair a POS", save: es ? "Guardar" : "Save",
    test: es ? "Probar" : "Test", remove: es ? "Quitar" : "Remove", saved: es ? "Guardado." : "Saved.",
  };
  const script = `(function(){var root=document.getElementById('terms'),tok=root.dataset.csrf,out=document.getElementById('terms-msg');
function api(m,p,b){return fetch('/api/terminals'+p,{method:m,headers:{'content-type':'application/json','x-csrf-token':tok},body:b?JSON.stringify(b):undefined}).then(function(r){return r.status===204?{}:r.json().then(function(j){if(!r.ok)throw new Error(j.error&&j.error.message||r.status);return j})})}
function say(t,ok){out.textContent=t;out.className='banner '+(ok?'ok':'err');out.hidden=false}
var states=${JSON.stringify(es ? { idle: "disponible", busy: "ocupado", unreachable: "sin conexión", error: "error" } : { idle: "ready", busy: "busy", unreachable: "unreachable", error: "error" })};
function row(x){var li=document.createElement('li'),b=document.createElement('b'),d=document.createElement('div'),act=document.createElement('div');li.style.cssText='list-style:none;margin:0 0 12px;padding:10px 0;border-bottom:1px solid var(--line)';
b.textContent=x.poiid;d.className='mute';d.textContent=x.address+' · '+(states[x.state]||x.state)+(x.lastError?' — '+x.lastError:'');li.appendChild(b);li.appendChild(d);act.className='row';act.style.marginTop='8px';
var bs=[['${t.test}',function(){api('POST','/terminals/'+encodeURIComponent(x.id)+'/test').then(function(r){say(r.message||r.code,r.ok);load()}).catch(function(e){say(e.message)})}],
 ['${t.remove}',function(){api('DELETE','/terminals/'+encodeURIComponent(x.id)).then(load).catch(function(e){say(e.message)})}]];
if(x.awaiting){var a=x.awaiting,what=(a.kind==='refund'?'${es ? "el reembolso de " : "the refund of "}':'')+a.display+' “'+a.reference+'”';li.appendChild(document.createTextNode('${es ? "Esperando el resultado de " : "Waiting for the result of "}'+what+' ${es ? "desde" : "since"} '+a.since.slice(0,16).replace('T',' ')+'. '));
 bs.push(['${es ? "Liberar" : "Release"}',function(){if(!confirm('${es ? "El terminal nunca dio el resultado de " : "The terminal never told the result of "}'+what+'. ${es ? "Compruébelo en Adyen Customer Area antes de cobrar de nuevo. ¿Liberar el terminal?" : "Check it in the Adyen Customer Area before charging again. Release the terminal?"}'))return;api('POST','/terminals/'+encodeURIComponent(x.id)+'/release').then(function(){say('${es ? "Terminal liberado; el pago queda «sin resolver»." : "Terminal released; the payment is marked unresolved."}',true);load()}).catch(function(e){say(e.message)})}])}
bs.forEach(function(b){var k=document.createElement('button');k.type='button';k.className='sec';k.textContent=b[0];k.onclick=b[1];act.appendChild(k)});li.appendChild(act);return li}
function load(){api('GET','/').then(function(s){var ul=document.getElementById('terms-list');ul.textContent='';s.terminals.forEach(function(x){ul.appendChild(row(x))});document.getElementById('origins').value=s.posOrigins.join('\\n')}).catch(function(e){say(e.message)})}
document.getElementById('terms-add').onsubmit=function(ev){ev.preventDefault();var f=ev.target;api('POST','/terminals',{address:f.address.value,poiid:f.poiid.value,keyIdentifier:f.keyIdentifier.value,keyVersion:Number(f.keyVersion.value),passphrase:f.passphrase.value}).then(function(){f.reset();say('${es ? "Terminal añadido." : "Terminal added."}',true);load()}).catch(function(e){say(e.message)})};
document.getElementById('terms-origins').onsubmit=function(ev){ev.preventDefault();api('PUT','/pos/origins',{origins:document.getElementById('origins').value.split(/\\s+/).filter(Boolean)}).then(function(){say('${t.saved}',true)}).catch(function(e){say(e.message)})};
document.getElementById('terms-pair').onclick=function(){api('POST','/pos/pairings',{name:'POS'}).then(function(r){say('${es ? "Token del TPV (se muestra una vez)" : "POS token (shown once)"}: '+r.token,true)}).catch(function(e){say(e.message)})};
load()})();`;
  return html`<section class="card" id="terms" data-csrf="${csrf}"><h2>${t.title}</h2><p id="terms-msg" hidden></p><ul id="terms-list" style="margin:0;padding:0"></ul>
<form id="terms-add"><h3 style="font-size:15px;margin:12px 0 0">${t.add}</h3>
<label for="ta">${t.address}</label><input id="ta" name="address" required inputmode="decimal" autocomplete="off">
<label for="tp">${t.poiid}</label><input id="tp" name="poiid" required autocomplete="off" spellcheck="false">
<label for="tk">${t.keyId}</label><input id="tk" name="keyIdentifier" required autocomplete="off" spellcheck="false">
<label for="tv">${t.keyVer}</label><input id="tv" name="keyVersion" type="number" min="0" value="1" required>
<label for="ts">${t.pass}</label><input id="ts" name="passphrase" type="password" required autocomplete="off">
<div class="row"><button type="submit">${t.add}</button></div></form>
<form id="terms-origins"><label for="origins">${t.origins}</label><textarea id="origins" rows="2" style="width:100%;font:inherit;padding:10px;border:1px solid #b8c3cf;border-radius:10px" spellcheck="false"></textarea>
<div class="row"><button type="submit">${t.save}</button><button type="button" class="sec" id="terms-pair">${t.pair}</button></div></form>
${raw(`<script>${script}</script>`)}</section>`;
}
