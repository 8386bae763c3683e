/**
 * The certificate error codes of the seed documentation, spelled exactly, with what each
 * means and what the technician should do, in English and Spanish. One registry: the
 * homepage, the API, the CLI and the LED all read it.
 */
export const CERT_CODES = [
  "ERR_IOT_HTTPS_CHECK_NO_SERVER",
  "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION",
  "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL",
  "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION",
  "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS",
  "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT",
] as const;
export type CertCodeName = (typeof CERT_CODES)[number];

export type Lang = "en" | "es";
export interface CodeText { meaning: string; remedy: string }

const TEXT: Record<CertCodeName, Record<Lang, CodeText>> = {
  ERR_IOT_HTTPS_CHECK_NO_SERVER: {
    en: {
      meaning: "The server configuration is missing: the box is not connected to a database.",
      remedy: "Connect the box: enter the pairing code shown below in the database's IoT app, or open the settings (cogs button) → Connect and paste the connection token.",
    },
    es: {
      meaning: "Falta la configuración del servidor: la caja no está conectada a ninguna base de datos.",
      remedy: "Conecta la caja: introduce el código de emparejamiento que se muestra abajo en la app IoT de la base de datos, o abre los ajustes (botón de engranajes) → Conectar y pega el token de conexión.",
    },
  },
  ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION: {
    en: {
      meaning: "An error occurred while reading the existing HTTPS certificate.",
      remedy: "The box keeps serving HTTPS and asks for a new certificate. If this stays, check the storage (SD card) and restart the box.",
    },
    es: {
      meaning: "Ocurrió un error al leer el certificado HTTPS existente.",
      remedy: "La caja sigue sirviendo HTTPS y pide un certificado nuevo. Si persiste, revisa el almacenamiento (tarjeta SD) y reinicia la caja.",
    },
  },
  ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL: {
    en: {
      meaning: "The contract (enterprise code) and/or the database UUID is missing.",
      remedy: "Open the settings (cogs button), click Credential and enter both values.",
    },
    es: {
      meaning: "Falta el contrato (código de empresa) y/o el UUID de la base de datos.",
      remedy: "Abre los ajustes (botón de engranajes), haz clic en Credencial e introduce ambos valores.",
    },
  },
  ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION: {
    en: {
      meaning: "The box could not reach the certificate service: no internet access, or a firewall or VPN blocks it.",
      remedy: "Check the network cable or Wi-Fi and that the firewall lets the box reach the certificate service over HTTPS (port 443). Download the logs for the full error.",
    },
    es: {
      meaning: "La caja no pudo contactar el servicio de certificados: no hay acceso a Internet o un firewall o VPN lo impide.",
      remedy: "Revisa el cable de red o el Wi-Fi y que el firewall permita a la caja llegar al servicio de certificados por HTTPS (puerto 443). Descarga los registros para ver el error completo.",
    },
  },
  ERR_IOT_HTTPS_LOAD_REQUEST_STATUS: {
    en: {
      meaning: "The certificate service answered with an unexpected HTTP status (shown after the code).",
      remedy: "The service may be under maintenance: wait and refresh. If it stays, open a support ticket and include the 3-digit status.",
    },
    es: {
      meaning: "El servicio de certificados respondió con un estado HTTP inesperado (indicado tras el código).",
      remedy: "El servicio puede estar en mantenimiento: espera y actualiza la página. Si persiste, abre un ticket de soporte con el estado de 3 dígitos.",
    },
  },
  ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT: {
    en: {
      meaning: "The certificate service was reached but did not provide a usable HTTPS certificate.",
      remedy: "Check that the database is a production instance and that its subscription is In Progress with an IoT box line. If the subscription was just added, refresh this page or restart the box.",
    },
    es: {
      meaning: "Se contactó el servicio de certificados, pero no entregó un certificado HTTPS utilizable.",
      remedy: "Comprueba que la base de datos sea de producción y que su suscripción esté En curso con una línea de IoT box. Si la suscripción se acaba de añadir, actualiza esta página o reinicia la caja.",
    },
  },
};

/** A code as shown: the name, plus the HTTP status for LOAD_REQUEST_STATUS ("… 404"). */
export interface CertError {
  name: CertCodeName;
  status?: number;
  /** Why, in one line (technical detail, never a secret). */
  detail?: string;
}

export const codeString = (e: CertError): string => (e.status ? `${e.name} ${e.status}` : e.name);

export function describeCert(name: CertCodeName, lang: Lang): CodeText {
  return TEXT[name][lang];
}

export function isCertCodeName(x: string): x is CertCodeName {
  return (CERT_CODES as readonly string[]).includes(x);
}

/**
 * Which code to show when the stored certificate is unreadable and something else also stops
 * the box (no server, no credential, a failed request): the unreadable file, always. It is the
 * one fault the settings cannot explain (the storage LED), and the other is kept in its detail.
 */
export function precedence(readError: CertError | null, other: CertError): CertError {
  if (!readError) return other;
  const why = other.name.startsWith("ERR_IOT_HTTPS_LOAD_REQUEST") ? "the request for a new one failed" : "no new one can be requested";
  return { ...readError, detail: `${readError.detail}; ${why}: ${codeString(other)}${other.detail ? ` (${other.detail})` : ""}` };
}
