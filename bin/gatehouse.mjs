#!/usr/bin/env node
// The installed command runs the compiled CLI in dist/ on plain Node (`npm run build` writes it; `npm install` runs
// the build). Working on the source, `npm run gatehouse -- …` runs src/ through tsx instead.
import { existsSync, readdirSync, statSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'gatehouse: the compiled CLI (dist/) is missing. Run `npm run build` (npm install runs it), ' +
      'or run from source with `npm run gatehouse -- <command>`.\n',
  );
  process.exit(1);
}
// In a checkout, warn when src/ changed after the last build (a stale dist/ would silently run old code).
const src = new URL('../src/', import.meta.url);
if (existsSync(src)) {
  const built = statSync(entry).mtimeMs;
  const newer = readdirSync(src, { recursive: true }).find((f) => f.endsWith('.ts') && statSync(new URL(f, src)).mtimeMs > built);
  if (newer) process.stderr.write(`gatehouse: warning: src/${newer} changed after dist/ was built; run \`npm run build\`\n`);
}
const { main } = await import(entry.href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`gatehouse: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
