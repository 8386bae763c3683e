/**
 * One error type for the terminals area: a stable code (for the API and the homepage) and a
 * human sentence (for the technician). `status` is the HTTP status the POS/admin API maps it to.
 */
export class TerminalError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TerminalError";
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new TerminalError(code, message, 400, details);

/** The request is fine but the box lacks something the technician can give it (a fleet root):
 *  409, with the sentence saying what to do. A 5xx is kept for our bugs and the terminal's faults. */
export const notSetUp = (code: string, message: string) => new TerminalError(code, message, 409);
