import path from 'path';
import express from 'express';
import { repoRoot } from '../paths';

/**
 * The support console: one static page (HTML, a vanilla script and a stylesheet) over the
 * journal's console API (/api/console). It logs in through Node-RED's own POST /auth/token,
 * so the page itself holds nothing secret and is served without a login; every piece of
 * data it shows comes from the API behind the hub's login.
 *
 * The files are served from the sources (hub/console/public), not dist/: they are not
 * compiled, and the build copies only nodes' editor files.
 */
export const consoleAssetsDir = path.join(repoRoot, 'hub', 'console', 'public');

/**
 * Payloads are data from outside the council: the page renders them as text only, and this
 * policy is the second wall should a mistake ever slip through: no inline script, no script
 * or style from anywhere but the hub, nothing fetched from the internet, no framing.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(_req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.set({
    'Content-Security-Policy': consoleContentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
}

/** Mount with `app.use('/console', consolePage())` before Node-RED's own routes. */
export function consolePage(assetsDir: string = consoleAssetsDir): express.Router {
  const router = express.Router();
  router.use(securityHeaders);
  // GET /console and /console/ both answer with the page; its own URLs are absolute.
  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-store').sendFile(path.join(assetsDir, 'index.html'));
  });
  router.use(express.static(assetsDir, { index: false, fallthrough: true, maxAge: 0 }));
  router.use((_req, res) => {
    res.status(404).type('text/plain').send('not found');
  });
  return router;
}
