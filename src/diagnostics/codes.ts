/**
 * The static registry of field-diagnostic codes (the tailscale health model): each code has a
 * severity, an LED class, how long it must hold before it is shown (so a glitch does not make
 * the LED flicker), the probe it depends on, and a title, meaning and remedy in English and
 * Spanish. Pure data; the README table is generated from the same values.
 */
export type Severity = "error" | "warning";
export type LedClass = "net" | "dns" | "firewall" | "tls" | "clock" | "portal" | "unexplained";
export type Lang = "en" | "es";

export const CODES = [
  "ERR_IOT_NET_NO_LINK",
  "ERR_IOT_NET_NO_ADDRESS",
  "ERR_IOT_NET_NO_GATEWAY",
  "ERR_IOT_NET_UPLINK_DOWN",
  "ERR_IOT_DNS_UNREACHABLE",
  "ERR_IOT_DNS_REBIND_BLOCKED",
  "ERR_IOT_FIREWALL_HTTPS_DROPPED",
  "ERR_IOT_FIREWALL_HTTPS_REJECTED",
  "ERR_IOT_TLS_INTERCEPTED",
  "ERR_IOT_CAPTIVE_PORTAL",
  "ERR_IOT_CLOCK_UNSYNCED",
  "ERR_IOT_DIAG_UNEXPLAINED",
] as const;
export type Code = (typeof CODES)[number];

export interface Text { title: string; meaning: string; remedy: string }
export interface CodeInfo {
  code: Code;
  severity: Severity;
  led: LedClass;
  /** The condition must be seen for this long (ms) before it is shown. */
  holdMs: number;
  /** The probe whose result raises it (see report.ts). */
  dependsOn: string;
  text: Record<Lang, Text>;
}

const info = (code: Code, severity: Severity, led: LedClass, holdMs: number, dependsOn: string, en: Text, es: Text): CodeInfo =>
  ({ code, severity, led, holdMs, dependsOn, text: { en, es } });

export const REGISTRY: Record<Code, CodeInfo> = {
  ERR_IOT_NET_NO_LINK: info("ERR_IOT_NET_NO_LINK", "error", "net", 1500, "link",
    { title: "No network link", meaning: "No network cable is connected and no Wi-Fi network is joined: the box has no link at all.",
      remedy: "Plug in the Ethernet cable (check that the port LEDs light up) or set up Wi-Fi from the box's access point IoTBox-<id>." },
    { title: "Sin enlace de red", meaning: "No hay cable de red conectado ni red Wi-Fi asociada: la caja no tiene ningún enlace.",
      remedy: "Conecta el cable Ethernet (comprueba que se encienden los LED del puerto) o configura el Wi-Fi desde el punto de acceso IoTBox-<id> de la caja." }),
  ERR_IOT_NET_NO_ADDRESS: info("ERR_IOT_NET_NO_ADDRESS", "error", "net", 2000, "address",
    { title: "No IP address", meaning: "The link is up but the box got no IPv4 address: the router's DHCP server did not answer.",
      remedy: "Check that the router's DHCP server is on and has free addresses, or that the cable goes to the right network." },
    { title: "Sin dirección IP", meaning: "El enlace está activo pero la caja no obtuvo dirección IPv4: el servidor DHCP del router no respondió.",
      remedy: "Comprueba que el servidor DHCP del router está activo y tiene direcciones libres, o que el cable va a la red correcta." }),
  ERR_IOT_NET_NO_GATEWAY: info("ERR_IOT_NET_NO_GATEWAY", "error", "net", 2000, "gateway",
    { title: "No gateway", meaning: "The box has an address but no default route, or the gateway does not answer: it cannot leave the local network.",
      remedy: "Check the router: its DHCP must hand out a gateway (router option) and the router must be on and reachable." },
    { title: "Sin puerta de enlace", meaning: "La caja tiene dirección pero no ruta por defecto, o la puerta de enlace no responde: no puede salir de la red local.",
      remedy: "Revisa el router: su DHCP debe entregar una puerta de enlace y el router debe estar encendido y accesible." }),
  ERR_IOT_NET_UPLINK_DOWN: info("ERR_IOT_NET_UPLINK_DOWN", "error", "net", 2000, "uplink",
    { title: "No way out of the local network", meaning: "The router answers, but every connection to the internet fails the same way, whatever the port: the router's internet connection is down (names may still come from its cache).",
      remedy: "Check the router's internet connection (its WAN or DSL light, the modem, the provider). If it has one, a firewall blocks all outgoing traffic from the box: allow the box out." },
    { title: "Sin salida de la red local", meaning: "El router responde, pero todas las conexiones a internet fallan igual, sea cual sea el puerto: la conexión a internet del router está caída (los nombres pueden seguir saliendo de su caché).",
      remedy: "Revisa la conexión a internet del router (su luz WAN o DSL, el módem, el proveedor). Si la tiene, un cortafuegos bloquea todo el tráfico saliente de la caja: déjala salir." }),
  ERR_IOT_DNS_UNREACHABLE: info("ERR_IOT_DNS_UNREACHABLE", "error", "dns", 2000, "dns_system",
    { title: "DNS unreachable", meaning: "No DNS resolver answers: the box cannot turn names into addresses, so it cannot reach the certificate service.",
      remedy: "Check that the router's DNS works and that the firewall lets DNS (port 53, UDP and TCP) through; or set a public DNS server on the router." },
    { title: "DNS inaccesible", meaning: "Ningún servidor DNS responde: la caja no puede traducir nombres a direcciones y no llega al servicio de certificados.",
      remedy: "Comprueba que el DNS del router funciona y que el cortafuegos deja pasar el DNS (puerto 53, UDP y TCP); o configura un DNS público en el router." }),
  ERR_IOT_DNS_REBIND_BLOCKED: info("ERR_IOT_DNS_REBIND_BLOCKED", "warning", "dns", 2000, "dns_rebind",
    { title: "Router blocks the box's name (DNS rebinding protection)", meaning: "The router's DNS refuses the box's name, or answers it with another address than the one the name stands for (empty, NXDOMAIN, SERVFAIL, REFUSED, 0.0.0.0), so the box's HTTPS name does not work on this network although the public DNS returns it.",
      remedy: "On the router, allow the box's domain (dnsmasq/OpenWrt: rebind-domain-ok=/<zone>/; unbound: private-domain: \"<zone>\"; Pi-hole, AdGuard or a DNS filter: allow-list the zone), or use a public DNS server on the router or on each device." },
    { title: "El router bloquea el nombre de la caja (protección contra DNS rebinding)", meaning: "El DNS del router rechaza el nombre de la caja, o lo responde con otra dirección que la que el nombre indica (vacío, NXDOMAIN, SERVFAIL, REFUSED, 0.0.0.0), así que el nombre HTTPS de la caja no funciona en esta red aunque el DNS público lo devuelve.",
      remedy: "En el router, permite el dominio de la caja (dnsmasq/OpenWrt: rebind-domain-ok=/<zona>/; unbound: private-domain: \"<zona>\"; Pi-hole, AdGuard o un filtro DNS: pon la zona en la lista permitida), o usa un DNS público en el router o en cada dispositivo." }),
  ERR_IOT_FIREWALL_HTTPS_DROPPED: info("ERR_IOT_FIREWALL_HTTPS_DROPPED", "error", "firewall", 2000, "https",
    { title: "Firewall drops HTTPS", meaning: "Connections to the certificate service on port 443 time out: a firewall silently drops outgoing HTTPS.",
      remedy: "Allow outgoing TCP port 443 from the box to the certificate service in the firewall or router." },
    { title: "El cortafuegos descarta HTTPS", meaning: "Las conexiones al servicio de certificados en el puerto 443 caducan: un cortafuegos descarta en silencio el HTTPS saliente.",
      remedy: "Permite el tráfico TCP saliente al puerto 443 desde la caja hacia el servicio de certificados en el cortafuegos o el router." }),
  ERR_IOT_FIREWALL_HTTPS_REJECTED: info("ERR_IOT_FIREWALL_HTTPS_REJECTED", "error", "firewall", 2000, "https",
    { title: "Firewall rejects HTTPS", meaning: "Connections to the certificate service on port 443 are refused or reset on the way: a firewall rejects outgoing HTTPS.",
      remedy: "Allow outgoing TCP port 443 from the box to the certificate service in the firewall or router." },
    { title: "El cortafuegos rechaza HTTPS", meaning: "Las conexiones al servicio de certificados en el puerto 443 se rechazan o se cortan por el camino: un cortafuegos rechaza el HTTPS saliente.",
      remedy: "Permite el tráfico TCP saliente al puerto 443 desde la caja hacia el servicio de certificados en el cortafuegos o el router." }),
  ERR_IOT_TLS_INTERCEPTED: info("ERR_IOT_TLS_INTERCEPTED", "error", "tls", 2000, "tls",
    { title: "HTTPS is intercepted", meaning: "The certificate service answered with a certificate from an unknown issuer: a proxy or firewall (\"SSL inspection\") intercepts HTTPS.",
      remedy: "Exempt the box (or the certificate service's domain) from SSL/HTTPS inspection on the proxy or firewall." },
    { title: "HTTPS interceptado", meaning: "El servicio de certificados respondió con un certificado de un emisor desconocido: un proxy o cortafuegos («inspección SSL») intercepta el HTTPS.",
      remedy: "Excluye la caja (o el dominio del servicio de certificados) de la inspección SSL/HTTPS en el proxy o el cortafuegos." }),
  ERR_IOT_CAPTIVE_PORTAL: info("ERR_IOT_CAPTIVE_PORTAL", "error", "portal", 2000, "captive",
    { title: "Captive portal", meaning: "The network redirects web requests to a login or terms page (captive portal) before it lets traffic through.",
      remedy: "Accept the portal's terms or log in from a browser on this network, or ask the network administrator to exempt the box." },
    { title: "Portal cautivo", meaning: "La red redirige las peticiones web a una página de acceso o de condiciones (portal cautivo) antes de dejar pasar el tráfico.",
      remedy: "Acepta las condiciones del portal o inicia sesión desde un navegador en esta red, o pide al administrador de red que exima a la caja." }),
  ERR_IOT_CLOCK_UNSYNCED: info("ERR_IOT_CLOCK_UNSYNCED", "error", "clock", 3000, "clock",
    { title: "Clock not synchronised", meaning: "The box's clock is not synchronised by NTP (the Raspberry Pi has no battery clock), so certificates can look not yet valid or expired.",
      remedy: "Let the box reach an NTP server (UDP port 123) through the firewall, or set an NTP server on the router." },
    { title: "Reloj sin sincronizar", meaning: "El reloj de la caja no está sincronizado por NTP (la Raspberry Pi no tiene reloj con batería), así que los certificados pueden parecer aún no válidos o caducados.",
      remedy: "Deja que la caja llegue a un servidor NTP (puerto UDP 123) a través del cortafuegos, o configura un servidor NTP en el router." }),
  ERR_IOT_DIAG_UNEXPLAINED: info("ERR_IOT_DIAG_UNEXPLAINED", "error", "unexplained", 3000, "any",
    { title: "A network check failed for a reason not yet known", meaning: "One of the box's network checks failed in a way none of the known causes explains. The detail says what the box saw.",
      remedy: "Note the detail, check the router and firewall for rules that concern the box, and send the logs (Settings → Download logs) to support." },
    { title: "Una comprobación de red falló por una causa aún desconocida", meaning: "Una de las comprobaciones de red de la caja falló de una forma que ninguna de las causas conocidas explica. El detalle dice lo que vio la caja.",
      remedy: "Anota el detalle, revisa en el router y el cortafuegos las reglas que afectan a la caja y envía los registros (Ajustes → Descargar registros) a soporte." }),
};

export function isCode(x: string): x is Code {
  return (CODES as readonly string[]).includes(x);
}

/** Title, meaning and remedy of a code; an unknown code gets a plain sentence, not an exception. */
export function describe(code: string, lang: Lang): Text {
  if (isCode(code)) return REGISTRY[code].text[lang];
  return lang === "es"
    ? { title: code, meaning: "Código desconocido.", remedy: "Descarga los registros y contacta con soporte." }
    : { title: code, meaning: "Unknown code.", remedy: "Download the logs and contact support." };
}
