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
} as const;

export type UpdateCode = keyof typeof UPDATE_CODES;

export class UpdateError extends Error {
  constructor(readonly code: UpdateCode, message: string = UPDATE_CODES[code], readonly detail: string | null = null) {
    super(message);
  }
}

export const describeUpdate = (code: UpdateCode) => UPDATE_CODES[code];
