/**
 * A refusal the box can give anywhere: JSON `{error:{code,message}}` for programs, a short page
 * for a browser that asked for HTML. The message is written for the technician.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function wantsHtml(accept: string | null | undefined): boolean {
  return !!accept && accept.includes("text/html");
}

export function problem(status: number, code: string, message: string, accept?: string | null, headers: Record<string, string> = {}): Response {
  const h = { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers };
  if (wantsHtml(accept)) {
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>IoT Box</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}</style></head>` +
      `<body><h1>IoT Box</h1><p>${escape(message)}</p><p><a href="/">Home</a></p></body></html>`;
    return new Response(body, { status, headers: { ...h, "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" } });
  }
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { ...h, "content-type": "application/json" } });
}
