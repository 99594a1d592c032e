/**
 * Serves the console's built assets at /console (index.html for every page path, so deep links work). The files
 * are read once at start (a few hundred KiB), so serving never touches the disk. Without built assets, /console
 * answers 503 naming the build command. Strict CSP: scripts and styles only from this origin.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Where `npm run build` writes the console: dist/console-ui, found from dist/console (an installed package) and
 * from src/console (a source checkout after a build).
 */
const CANDIDATES = [new URL('../console-ui/', import.meta.url), new URL('../../dist/console-ui/', import.meta.url)].map((u) => fileURLToPath(u));
export const DEFAULT_ASSETS_DIR = CANDIDATES.find((d) => existsSync(join(d, 'index.html'))) ?? CANDIDATES[0]!;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

const HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function loadAssets(dir: string): Map<string, Buffer> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set('/' + relative(dir, p).split('\\').join('/'), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

export function registerConsoleStatic(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DEFAULT_ASSETS_DIR;
  const assets = loadAssets(dir);
  const sendFile = (reply: FastifyReply, name: string) => {
    const body = assets!.get(name)!;
    return reply
      .headers(HEADERS)
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', name === '/index.html' ? 'no-store' : 'no-cache')
      .send(body);
  };
  const handler = (url: string, reply: FastifyReply) => {
    if (!assets) return reply.code(503).header('content-type', 'text/plain; charset=utf-8').send(`The console's assets are not built (looked in ${dir}): run npm run build.\n`);
    const path = url.split('?')[0]!.slice('/console'.length) || '/';
    if (assets.has(path) && path !== '/') return sendFile(reply, path);
    // A missing asset is a 404; any other path is a console page, answered by the single-page app.
    if (/\.[a-z0-9]+$/i.test(path)) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found\n');
    return sendFile(reply, '/index.html');
  };
  app.get('/console', (request, reply) => handler(request.url, reply));
  app.get('/console/*', (request, reply) => handler(request.url, reply));
}
