/**
 * What the listeners call for every request: the gate (gate.ts) first, then the app. Anything
 * that escapes the app is caught here and logged as the bug it is; the client gets a clear 500,
 * never a dropped connection.
 */
import type { Logger } from "../log/index";
import { checkRequest, type GateOptions } from "./gate";
import { problem } from "./problem";

export interface FrontOptions extends GateOptions {
  app: { fetch: (req: Request, env?: unknown) => Response | Promise<Response> };
  logger: Logger;
}

export function createFront(o: FrontOptions) {
  return async (req: Request, env?: unknown): Promise<Response> => {
    let verdict;
    try { verdict = checkRequest(req, o); } catch (e) {
      o.logger.error("request gate failed", { error: (e as Error).message });
      return problem(500, "internal", "Internal error: this is a bug of the box; the log has the details.");
    }
    if (!verdict.ok) return verdict.response;
    try {
      return await o.app.fetch(req, env);
    } catch (e) {
      o.logger.error("request failed outside the app", { path: verdict.url.pathname, error: (e as Error).message });
      return problem(500, "internal", "Internal error: this is a bug of the box; the log has the details.", req.headers.get("accept"));
    }
  };
}
