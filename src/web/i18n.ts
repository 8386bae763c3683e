/** The homepage's words, in English and Spanish (the seed documentation is bilingual). */
import type { Context } from "hono";
import type { Lang } from "../cert/codes";
import { NAME_CHECK_WORDS } from "./name-check";

const en = {
  title: "IoT Box", box: "Box", id: "Box ID", hostname: "Host name", ip: "IP address", mac: "MAC address", version: "Version",
  httpsReady: "HTTPS is ready", openHttps: "Open the secure address", noHttps: "No HTTPS certificate yet",
  checking: "Checking the certificate…", whatToDo: "What to do", detail: "Detail", causeFound: "Cause found on the network",
  certificate: "HTTPS certificate", subject: "Subject", issuer: "Issuer", validFrom: "Valid from", validUntil: "Valid until",
  servingTemporary: "Serving a temporary self-signed certificate until the real one arrives.", lastCheck: "Last check", nextCheck: "Next check",
  system: "System", cpuTemp: "CPU temperature", memory: "Memory used", disk: "Storage used", uptime: "Up for",
  settings: "Settings", setupProblems: "Set-up problems (iotbox.conf, stored files)", terminals: "Payment terminals", noTerminals: "No payment terminal configured.",
  credential: "Credential", dbUuid: "Database UUID", enterpriseCode: "Contract (enterprise code)", server: "Server", serverUrl: "Server URL",
  provisioningUrl: "Certificate service URL", logLevel: "Log level", downloadLogs: "Download logs", restart: "Restart the box", save: "Save",
  password: "Admin password", login: "Log in", logout: "Log out", choosePassword: "Choose the admin password",
  choosePasswordHelp: "This box has no admin password yet. Choose one (8 characters or more); it protects the settings and the logs.",
  newPassword: "New password", changePassword: "Change the admin password", saved: "Saved.", keepSecret: "(set — leave empty to keep)",
  wrongPassword: "Wrong password.", tooMany: "Too many failed attempts. Try again in", seconds: "seconds", back: "Back",
  restarting: "The box is restarting. This page will come back in a minute.", unknown: "unknown", none: "none",
  noRedirect: "Stay on this local page", redirectNote: "This box now has a trusted certificate. Use its secure address:",
  checkNow: "Check now", all: "All good: the certificate is valid and the network is fine.",
  nameCheck: NAME_CHECK_WORDS.en,
  currentPassword: "Current password", wrongCurrentPassword: "The current password is wrong; nothing was changed.",
  lockedTitle: "The settings are locked",
  lockedHelp: "This box had an admin password and it can no longer be read, so nobody can choose a new one from the network. To set a new one, take out the SD card, add this line to iotbox.conf on its boot partition, put the card back and restart the box:",
};
export type Words = typeof en;
const es: Words = {
  title: "IoT Box", box: "Caja", id: "ID de la caja", hostname: "Nombre de host", ip: "Dirección IP", mac: "Dirección MAC", version: "Versión",
  httpsReady: "HTTPS está listo", openHttps: "Abrir la dirección segura", noHttps: "Todavía no hay certificado HTTPS",
  checking: "Comprobando el certificado…", whatToDo: "Qué hacer", detail: "Detalle", causeFound: "Causa encontrada en la red",
  certificate: "Certificado HTTPS", subject: "Sujeto", issuer: "Emisor", validFrom: "Válido desde", validUntil: "Válido hasta",
  servingTemporary: "Se usa un certificado temporal autofirmado hasta que llegue el real.", lastCheck: "Última comprobación", nextCheck: "Próxima comprobación",
  system: "Sistema", cpuTemp: "Temperatura de la CPU", memory: "Memoria usada", disk: "Almacenamiento usado", uptime: "Encendida desde hace",
  settings: "Ajustes", setupProblems: "Problemas de configuración (iotbox.conf, archivos guardados)", terminals: "Terminales de pago", noTerminals: "No hay terminales de pago configurados.",
  credential: "Credencial", dbUuid: "UUID de la base de datos", enterpriseCode: "Contrato (código de empresa)", server: "Servidor", serverUrl: "URL del servidor",
  provisioningUrl: "URL del servicio de certificados", logLevel: "Nivel de registro", downloadLogs: "Descargar registros", restart: "Reiniciar la caja", save: "Guardar",
  password: "Contraseña de administrador", login: "Entrar", logout: "Salir", choosePassword: "Elige la contraseña de administrador",
  choosePasswordHelp: "Esta caja aún no tiene contraseña de administrador. Elige una (8 caracteres o más); protege los ajustes y los registros.",
  newPassword: "Contraseña nueva", changePassword: "Cambiar la contraseña de administrador", saved: "Guardado.", keepSecret: "(definido — déjalo vacío para conservarlo)",
  wrongPassword: "Contraseña incorrecta.", tooMany: "Demasiados intentos fallidos. Vuelve a intentarlo en", seconds: "segundos", back: "Volver",
  restarting: "La caja se está reiniciando. Esta página volverá en un minuto.", unknown: "desconocido", none: "ninguno",
  noRedirect: "Quedarse en esta página local", redirectNote: "Esta caja ya tiene un certificado de confianza. Usa su dirección segura:",
  checkNow: "Comprobar ahora", all: "Todo bien: el certificado es válido y la red funciona.",
  nameCheck: NAME_CHECK_WORDS.es,
  currentPassword: "Contraseña actual", wrongCurrentPassword: "La contraseña actual es incorrecta; no se cambió nada.",
  lockedTitle: "Los ajustes están bloqueados",
  lockedHelp: "Esta caja tenía una contraseña de administrador que ya no se puede leer, así que nadie puede elegir otra desde la red. Para poner una nueva, saca la tarjeta SD, añade esta línea a iotbox.conf en su partición de arranque, vuelve a poner la tarjeta y reinicia la caja:",
};

export const WORDS: Record<Lang, Words> = { en, es };

/** ?lang=es|en wins, then a cookie, then Accept-Language. */
export function pickLang(c: Context): Lang {
  const q = c.req.query("lang");
  if (q === "es" || q === "en") return q;
  const cookie = /(?:^|;\s*)lang=(en|es)/.exec(c.req.header("cookie") ?? "")?.[1];
  if (cookie === "es" || cookie === "en") return cookie;
  const al = (c.req.header("accept-language") ?? "").toLowerCase();
  return al.startsWith("es") ? "es" : "en";
}
