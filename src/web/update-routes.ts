/**
 * The admin's update buttons, registered on the settings app after its session check, so they
 * follow its rules exactly (HTTPS only, a live admin session, the CSRF token, same origin):
 *   POST /settings/update/now      look at the channel; a newer bundle is downloaded, checked, installed, and the box reboots into it (never during a payment)
 *   POST /settings/update/hold     no automatic look, download or install
 *   POST /settings/update/resume
 * "now" answers at once (the page shows progress in the card); the work goes on in the background.
 */
import type { Context, Hono } from "hono";
import { readForm } from "./body";
import { pickLang } from "./i18n";
import type { Updater } from "../update/index";
import type { Logger } from "../log/index";

export interface UpdateRouteDeps { updater?: Pick<Updater, "check" | "hold" | "resume">; logger: Logger }

export function addUpdateRoutes(app: Hono, d: UpdateRouteDeps) {
  const back = (c: Context) => c.redirect(`/?lang=${pickLang(c)}#update`, 303);
  const need = (c: Context) => (d.updater ? null : c.json({ error: { code: "not_available", message: "This box has no updater." } }, 404));
  app.post("/settings/update/now", async (c) => {
    await readForm(c);
    const no = need(c); if (no) return no;
    d.logger.info("update now requested from the settings");
    void d.updater!.check({ install: true }).catch((e) => d.logger.error("update now failed", { error: (e as Error).message }));
    return back(c);
  });
  app.post("/settings/update/hold", async (c) => { await readForm(c); const no = need(c); if (no) return no; d.updater!.hold(); return back(c); });
  app.post("/settings/update/resume", async (c) => { await readForm(c); const no = need(c); if (no) return no; d.updater!.resume(); return back(c); });
}
