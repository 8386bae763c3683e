/**
 * "Software updates" on the homepage: the running version, the channel, the last look, what the
 * last update did (plainly when the box went back to its previous system), a refusal; for an admin
 * over HTTPS, "Update now" and "Hold updates"/"Resume updates" (POSTs to /settings/update/…, with
 * the CSRF token, behind the settings' session rules: update-routes.ts).
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Lang } from "../cert/codes";
import type { UpdateView } from "../update/index";
import { UPDATE_CODES_ES, type UpdateCode } from "../update/codes";

type H = HtmlEscapedString | Promise<HtmlEscapedString>;

const W = {
  en: { title: "Software updates", running: "Running version", channel: "Channel", lastCheck: "Last check", never: "never", lastUpdate: "Last update",
    held: "Updates are held: the box does not look for or install updates.", now: "Update now", hold: "Hold updates", resume: "Resume updates",
    installed: "installed and running", rolledBackShort: "rolled back", rolledBack: "The new version did not start correctly, so the box went back to the previous version by itself. Everything was kept: settings, certificate, terminals and payments.",
    pending: "Installed; the box restarts into it during the quiet hours (or as soon as no payment is in progress, when asked for)", payment: "(a payment is in progress: it waits)", refused: "Last refusal", upToDate: "up to date", available: "available", failed: "failed",
    downloading: "Downloading" },
  es: { title: "Actualizaciones", running: "Versión en uso", channel: "Canal", lastCheck: "Última comprobación", never: "nunca", lastUpdate: "Última actualización",
    held: "Las actualizaciones están en pausa: la caja no busca ni instala actualizaciones.", now: "Actualizar ahora", hold: "Pausar actualizaciones", resume: "Reanudar actualizaciones",
    installed: "instalada y en uso", rolledBackShort: "revertida", rolledBack: "La nueva versión no arrancó bien, así que la caja volvió sola a la versión anterior. Se conservó todo: ajustes, certificado, terminales y pagos.",
    pending: "Instalada; la caja se reinicia con ella en las horas tranquilas (o en cuanto no haya un pago en curso, si se pidió)", payment: "(hay un pago en curso: espera)", refused: "Último rechazo", upToDate: "al día", available: "disponible", failed: "falló",
    downloading: "Descargando" },
};

/** A refusal in the page's language: the registry's sentence for a known code, else what was stored. */
function refusalText(e: { code: string; message: string }, lang: Lang): string {
  return lang === "es" && e.code in UPDATE_CODES_ES ? UPDATE_CODES_ES[e.code as UpdateCode] : e.message;
}

export function updateCard(v: UpdateView | null | undefined, lang: Lang, admin: { csrf: string } | null): H | "" {
  if (!v) return "";
  const w = W[lang];
  const tok = admin ? html`<input type="hidden" name="_csrf" value="${admin.csrf}">` : "";
  const outcome = v.lastCheck ? ({ "up-to-date": w.upToDate, available: w.available, failed: w.failed } as const)[v.lastCheck.outcome] : "";
  const r = v.lastResult;
  return html`<section class="card" id="update"><h2>${w.title}</h2><dl>
<dt>${w.running}</dt><dd>${v.running.version}</dd><dt>${w.channel}</dt><dd>${v.channel}</dd>
<dt>${w.lastCheck}</dt><dd>${v.lastCheck ? `${v.lastCheck.at.slice(0, 16).replace("T", " ")} UTC — ${outcome}${v.lastCheck.version ? ` (${v.lastCheck.version})` : ""}` : w.never}</dd>
${r ? html`<dt>${w.lastUpdate}</dt><dd>${r.outcome === "installed" ? `${r.version} ${w.installed} (${r.at?.slice(0, 10)})` : r.outcome === "rolled-back" ? `${r.version}: ${w.rolledBackShort} (${r.at?.slice(0, 10)})` : r.line}</dd>` : ""}
${v.download && !v.pendingReboot ? html`<dt>${w.downloading}</dt><dd>${v.download.version}: ${Math.floor((100 * v.download.have) / v.download.size)} %</dd>` : ""}
</dl>
${r?.outcome === "rolled-back" ? html`<p class="banner err" role="alert" id="update-rolled-back">${w.rolledBack}</p>` : ""}
${v.pendingReboot ? html`<p class="banner info">${w.pending} (${v.quietHours}): ${v.pendingReboot.version} ${v.paymentInFlight ? w.payment : ""}</p>` : ""}
${v.held ? html`<p class="mute">${w.held}</p>` : ""}
${v.lastError ? html`<p class="banner err" id="update-refusal"><span class="code">${v.lastError.code}</span>${w.refused}: ${refusalText(v.lastError, lang)}</p>` : ""}
${admin ? html`<div class="row"><form method="post" action="/settings/update/now?lang=${lang}">${tok}<button type="submit">${w.now}</button></form>
<form method="post" action="/settings/update/${v.held ? "resume" : "hold"}?lang=${lang}">${tok}<button class="sec" type="submit">${v.held ? w.resume : w.hold}</button></form></div>` : ""}
</section>`;
}
