/**
 * The homepage codes of the database connection (our own family, ERR_IOT_ODOO_…), in English
 * and Spanish: what it means and what the technician does. Listed in the README.
 */
import type { Lang } from "../cert/codes";

export type OdooCode =
  | "ERR_IOT_ODOO_TOKEN_INVALID"
  | "ERR_IOT_ODOO_SETUP_UNREACHABLE"
  | "ERR_IOT_ODOO_SETUP_STATUS"
  | "ERR_IOT_ODOO_SETUP_REFUSED"
  | "ERR_IOT_ODOO_CERT_STATUS_FAILED"
  | "ERR_IOT_ODOO_PAIRING_UNREACHABLE"
  | "ERR_IOT_ODOO_PAIRING_EXPIRED";

interface Text { meaning: string; remedy: string }

const TEXT: Record<OdooCode, Record<Lang, Text>> = {
  ERR_IOT_ODOO_TOKEN_INVALID: {
    en: { meaning: "The connection token could not be read; nothing was saved.", remedy: "Copy the token again from the database (IoT app → Connect an IoT box) and paste it whole." },
    es: { meaning: "No se pudo leer el token de conexión; no se guardó nada.", remedy: "Vuelve a copiar el token desde la base de datos (app IoT → Conectar una caja IoT) y pégalo entero." },
  },
  ERR_IOT_ODOO_SETUP_UNREACHABLE: {
    en: { meaning: "The database did not answer (DNS, refused, timeout or TLS).", remedy: "Check that the database URL opens from this network; the box keeps trying (the diagnosis names a network cause)." },
    es: { meaning: "La base de datos no respondió (DNS, rechazo, tiempo de espera o TLS).", remedy: "Comprueba que la URL de la base de datos se abre desde esta red; la caja sigue intentándolo (el diagnóstico indica una causa de red)." },
  },
  ERR_IOT_ODOO_SETUP_STATUS: {
    en: { meaning: "The database answered the box's registration with an HTTP error.", remedy: "Check that the IoT app is installed on the database; the box tries again later. Open a ticket with the status if it stays." },
    es: { meaning: "La base de datos respondió al registro de la caja con un error HTTP.", remedy: "Comprueba que la app IoT está instalada en la base de datos; la caja lo intentará más tarde. Abre un ticket con el estado si persiste." },
  },
  ERR_IOT_ODOO_SETUP_REFUSED: {
    en: { meaning: "The database refused the box's registration (the token may be old or revoked).", remedy: "Get a new connection token from the database and connect again (Settings → Connect)." },
    es: { meaning: "La base de datos rechazó el registro de la caja (el token puede ser antiguo o estar revocado).", remedy: "Obtén un token de conexión nuevo en la base de datos y vuelve a conectar (Ajustes → Conectar)." },
  },
  ERR_IOT_ODOO_CERT_STATUS_FAILED: {
    en: { meaning: "The box could not tell the database its certificate's end date.", remedy: "Nothing to do at once: the box tries again; the HTTPS certificate itself is not affected." },
    es: { meaning: "La caja no pudo comunicar a la base de datos la fecha de fin de su certificado.", remedy: "Nada que hacer de inmediato: la caja lo vuelve a intentar; el certificado HTTPS no se ve afectado." },
  },
  ERR_IOT_ODOO_PAIRING_UNREACHABLE: {
    en: { meaning: "The pairing service did not answer; the pairing code cannot be claimed yet.", remedy: "Check the box's Internet access; it keeps trying. Or connect with a token (Settings → Connect)." },
    es: { meaning: "El servicio de emparejamiento no respondió; el código aún no se puede reclamar.", remedy: "Comprueba el acceso a Internet de la caja; sigue intentándolo. O conecta con un token (Ajustes → Conectar)." },
  },
  ERR_IOT_ODOO_PAIRING_EXPIRED: {
    en: { meaning: "The pairing code expired before a database claimed it.", remedy: "Restart the box for a new code, or connect with a token (Settings → Connect)." },
    es: { meaning: "El código de emparejamiento caducó antes de que una base de datos lo reclamara.", remedy: "Reinicia la caja para obtener un código nuevo, o conecta con un token (Ajustes → Conectar)." },
  },
};

export function describeOdoo(code: OdooCode, lang: Lang): Text { return TEXT[code][lang]; }

export const ODOO_WORDS = {
  en: { title: "Database", connected: "Connected to", notConnected: "Not connected to a database.", connectHelp: "In Settings → Connect, paste the connection token the database's IoT app shows.",
    registered: "Registered as", since: "since", pairingCode: "Pairing code", pairingHelp: "In the database's IoT app, choose Pair and enter this code.",
    connect: "Connect", connectTitle: "Connect to a database", token: "Connection token", disconnect: "Disconnect from the database", connectedOk: "Connected: the database knows this box.",
    disconnected: "Disconnected from the database.", waiting: "Registering with the database…",
    tokenHelp: "Paste the connection token the database's IoT app shows (a link starting with https://, or url|token|…). The box tries it before saving it." },
  es: { title: "Base de datos", connected: "Conectada a", notConnected: "No está conectada a una base de datos.", connectHelp: "En Ajustes → Conectar, pega el token de conexión que muestra la app IoT de la base de datos.",
    registered: "Registrada como", since: "desde", pairingCode: "Código de emparejamiento", pairingHelp: "En la app IoT de la base de datos, elige Emparejar e introduce este código.",
    connect: "Conectar", connectTitle: "Conectar a una base de datos", token: "Token de conexión", disconnect: "Desconectar de la base de datos", connectedOk: "Conectada: la base de datos conoce esta caja.",
    disconnected: "Desconectada de la base de datos.", waiting: "Registrándose en la base de datos…",
    tokenHelp: "Pega el token de conexión que muestra la app IoT de la base de datos (un enlace que empieza por https://, o url|token|…). La caja lo prueba antes de guardarlo." },
} as const;
