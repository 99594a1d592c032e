#!/usr/bin/env node
/**
 * Builds the web console (Preact, bundled by esbuild) into an output folder: index.html, app.js, app.css.
 * `npm run build` calls it with console-ui/dist; tests build into a scratch folder. No CDN: everything the page
 * loads is in the folder, served by the gateway at /console.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildConsole(outDir = join(here, 'dist')) {
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: join(outDir, 'app.js'),
    logLevel: 'warning',
    legalComments: 'linked',
  });
  cpSync(join(here, 'src', 'index.html'), join(outDir, 'index.html'));
  cpSync(join(here, 'src', 'app.css'), join(outDir, 'app.css'));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildConsole(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`console: built into ${out}\n`);
}
