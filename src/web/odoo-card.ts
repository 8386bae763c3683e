/**
 * The database connection on the pages: a card on the homepage (connected to what, registered as
 * what, or the ERR_IOT_ODOO_… code with what to do; a pairing code while not connected) and the
 * Connect card in the settings (paste a token, or disconnect). The token is never shown back.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Lang } from "../cert/codes";
import { ODOO_WORDS } from "../odoo/codes";
import type { Status } from "./status";

type H = HtmlEscapedString | Promise<HtmlEscapedString>;
export type OdooView = NonNullable<Status["odoo"]>;

export function odooCard(v: Status["odoo"] | undefined, lang: Lang, pairing?: { code: string | null; error: { code: string; meaning: string; remedy: string } | null } | null): H | "" {
  if (!v) return "";
  const w = ODOO_WORDS[lang];
  const problem = v.code ? html`<section class="banner err" role="alert"><span class="code">${v.code}</span><p>${v.meaning}</p><p><b>${lang === "es" ? "Qué hacer" : "What to do"}:</b> ${v.remedy}</p>${v.detail || v.retryAt ? html`<p class="mute">${v.detail ?? ""}${v.retryAt ? ` · ${lang === "es" ? "próximo intento" : "next try"} ${v.retryAt.slice(11, 19)} UTC` : ""}</p>` : ""}</section>` : "";
  if (!v.connected) {
    return html`<section class="card" id="odoo"><h2>${w.title}</h2><p>${w.notConnected}</p>
${pairing?.code ? html`<p>${w.pairingCode}</p><p class="code" id="pairing-code" style="font-size:28px;letter-spacing:.12em">${pairing.code}</p><p class="mute">${w.pairingHelp}</p>` : ""}
${pairing?.error ? html`<p><span class="code">${pairing.error.code}</span>${pairing.error.meaning} ${pairing.error.remedy}</p>` : ""}
<p class="mute">${pairing?.code ? (lang === "es" ? "O bien: " : "Or: ") : ""}${w.connectHelp}</p></section>${problem}`;
  }
  return html`<section class="card" id="odoo"><h2>${w.title}</h2><dl>
<dt>${w.connected}</dt><dd>${v.server}${v.dbName ? ` (${v.dbName})` : ""}</dd>
${v.registered && v.registeredAs ? html`<dt>${w.registered}</dt><dd>${v.registeredAs}</dd>` : html`<dt></dt><dd class="mute">${w.waiting}</dd>`}
</dl></section>${problem}`;
}

export function connectCard(lang: Lang, csrf: string, v: Status["odoo"] | undefined): H | "" {
  if (!v) return "";
  const w = ODOO_WORDS[lang];
  const tok = html`<input type="hidden" name="_csrf" value="${csrf}">`;
  return v.connected
    ? html`<section class="card" id="connect"><h2>${w.title}</h2><p>${w.connected} ${v.server}${v.dbName ? ` (${v.dbName})` : ""}</p>
<form method="post" action="/settings/disconnect?lang=${lang}">${tok}<div class="row"><button class="sec" type="submit">${w.disconnect}</button></div></form></section>`
    : html`<section class="card" id="connect"><h2>${w.connectTitle}</h2><form method="post" action="/settings/connect?lang=${lang}">${tok}
<label for="ct">${w.token}</label><textarea id="ct" name="token" rows="3" required autocomplete="off" spellcheck="false" style="width:100%;font:14px/1.3 ui-monospace,'DejaVu Sans Mono',monospace;padding:10px;border:1px solid #b8c3cf;border-radius:10px;word-break:break-all"></textarea>
<p class="mute">${w.tokenHelp}</p><div class="row"><button type="submit">${w.connect}</button></div></form></section>`;
}
