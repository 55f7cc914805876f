// The NOC page (docs/noc-page.md): plain ES modules, CSS and one HTML file from src/web/public,
// served as they are (no build step, nothing from the internet). The socket.io browser client comes
// from the socket.io server itself (/socket.io/socket.io.esm.min.js). The page reads everything
// through the authenticated API and stream, so serving its files needs no token.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/**
 * The folder with index.html: next to this file when running from the sources (tests, tsx), and in
 * the source tree when running the compiled dist/src/web/static.js (tsc does not copy it).
 */
export function publicDir(): string {
  for (const rel of ['./public/', '../../../src/web/public/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('the NOC page files (src/web/public) are missing');
}

// Everything from this origin only: no inline script, no third-party host.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function webRouter(dir = publicDir()): Router {
  const r = Router();
  const files = express.static(dir, {
    index: 'index.html',
    // Small files, changed by upgrades: revalidate every time (ETag), never stale after an upgrade.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res) => {
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
    },
  });
  // Only GET/HEAD of files that exist; anything else falls through to the API's 404.
  r.use((req, res, next) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/socket.io/')) return next();
    files(req, res, next);
  });
  return r;
}
