/**
 * Why an update was refused or failed: a stable code and a sentence for the shop technician
 * (never rauc's own output, which goes to the log). One registry, used by the CLI, the homepage
 * and /api/status.
 */
export const UPDATE_CODES = {
  ERR_IOT_UPDATE_UNSIGNED: "This file is not a signed update: the box only installs updates signed by the vendor. Nothing was changed.",
  ERR_IOT_UPDATE_FOREIGN_SIGNATURE: "This update is signed by someone other than the vendor of this box. It was refused and nothing was changed.",
  ERR_IOT_UPDATE_DAMAGED: "This update file is damaged or incomplete (for example a download that was cut). Get the file again. Nothing was changed.",
  ERR_IOT_UPDATE_WRONG_DEVICE: "This update is for another kind of device. It was refused and nothing was changed.",
  ERR_IOT_UPDATE_OLDER: "This update is older than the system already running on the box. It was refused and nothing was changed.",
  ERR_IOT_UPDATE_SAME: "This version is already running on the box. Nothing to do.",
  ERR_IOT_UPDATE_NOT_FOUND: "The update file was not found or could not be read.",
  ERR_IOT_UPDATE_BOX: "The box cannot check updates (its updater or vendor key is missing): this needs the vendor's support.",
  ERR_IOT_UPDATE_ROLLED_BACK: "This version was already tried on this box and did not start correctly, so the box stays on its current system. An administrator can try it again with \"Update now\".",
  ERR_IOT_UPDATE_HELD: "Updates are held by the administrator: the box does not look for, download or install updates until they are resumed.",
  ERR_IOT_UPDATE_BUSY: "Another update is being installed right now. Try again when it has finished.",
  ERR_IOT_UPDATE_INSTALL_FAILED: "Writing the update failed. The box keeps running its current system; nothing was lost. Try again later or contact the vendor.",
  ERR_IOT_UPDATE_MANIFEST: "The update service gave an answer the box cannot use. Nothing was downloaded; the box will look again later.",
  ERR_IOT_UPDATE_UNREACHABLE: "The box could not reach the update service. It will look again later.",
  ERR_IOT_UPDATE_DOWNLOAD: "The download of the update did not complete. It will continue where it stopped at the next attempt.",
  ERR_IOT_UPDATE_DOWNLOAD_MISMATCH: "The downloaded update is not the file the update service announced (size or checksum). It was deleted and will be fetched again.",
  ERR_IOT_UPDATE_NO_SPACE: "There is not enough free space on the card for this update; nothing was downloaded, so the box's settings, certificate and payments keep their room. A larger card, or the vendor's support, is needed.",
} as const;

export type UpdateCode = keyof typeof UPDATE_CODES;

/** The same sentences in Spanish (the homepage's other language). */
export const UPDATE_CODES_ES: Record<UpdateCode, string> = {
  ERR_IOT_UPDATE_UNSIGNED: "Este archivo no es una actualización firmada: la caja solo instala actualizaciones firmadas por el fabricante. No se cambió nada.",
  ERR_IOT_UPDATE_FOREIGN_SIGNATURE: "Esta actualización está firmada por alguien que no es el fabricante de esta caja. Se rechazó y no se cambió nada.",
  ERR_IOT_UPDATE_DAMAGED: "El archivo de actualización está dañado o incompleto (por ejemplo, una descarga cortada). Vuelve a obtenerlo. No se cambió nada.",
  ERR_IOT_UPDATE_WRONG_DEVICE: "Esta actualización es para otro tipo de dispositivo. Se rechazó y no se cambió nada.",
  ERR_IOT_UPDATE_OLDER: "Esta actualización es más antigua que el sistema que ya funciona en la caja. Se rechazó y no se cambió nada.",
  ERR_IOT_UPDATE_SAME: "Esta versión ya está funcionando en la caja. No hay nada que hacer.",
  ERR_IOT_UPDATE_NOT_FOUND: "No se encontró el archivo de actualización o no se pudo leer.",
  ERR_IOT_UPDATE_BOX: "La caja no puede comprobar actualizaciones (le falta el actualizador o la clave del fabricante): hace falta el soporte del fabricante.",
  ERR_IOT_UPDATE_ROLLED_BACK: "Esta versión ya se probó en esta caja y no arrancó bien, así que la caja sigue con su sistema actual. Un administrador puede volver a intentarlo con «Actualizar ahora».",
  ERR_IOT_UPDATE_HELD: "El administrador ha pausado las actualizaciones: la caja no busca, descarga ni instala actualizaciones hasta que se reanuden.",
  ERR_IOT_UPDATE_BUSY: "Ahora mismo se está instalando otra actualización. Inténtalo de nuevo cuando termine.",
  ERR_IOT_UPDATE_INSTALL_FAILED: "Falló la escritura de la actualización. La caja sigue con su sistema actual; no se perdió nada. Inténtalo más tarde o contacta con el fabricante.",
  ERR_IOT_UPDATE_MANIFEST: "El servicio de actualizaciones dio una respuesta que la caja no puede usar. No se descargó nada; la caja volverá a mirar más tarde.",
  ERR_IOT_UPDATE_UNREACHABLE: "La caja no pudo contactar con el servicio de actualizaciones. Volverá a mirar más tarde.",
  ERR_IOT_UPDATE_DOWNLOAD: "La descarga de la actualización no terminó. Seguirá donde se quedó en el próximo intento.",
  ERR_IOT_UPDATE_DOWNLOAD_MISMATCH: "La actualización descargada no es el archivo que anunció el servicio (tamaño o suma de control). Se borró y se descargará de nuevo.",
  ERR_IOT_UPDATE_NO_SPACE: "No hay espacio libre suficiente en la tarjeta para esta actualización; no se descargó nada, así que los ajustes, el certificado y los pagos de la caja conservan su sitio. Hace falta una tarjeta mayor o el soporte del fabricante.",
};

export class UpdateError extends Error {
  constructor(readonly code: UpdateCode, message: string = UPDATE_CODES[code], readonly detail: string | null = null) {
    super(message);
  }
}

export const describeUpdate = (code: UpdateCode) => UPDATE_CODES[code];
