/**
 * Console page load: time from navigation until each page shows its data (Overview's totals and charts, Directives' list,
 * Audit's chain verification and records), in headless Chromium against an in-process gateway holding N recorded
 * requests, a few directives and their history. Baseline, same run and same browser: loading /healthz (a JSON
 * document, no script). Best of three per page. Also the sign-in call (scrypt verification) on its own.
 *   node --import tsx bench/console.bench.ts [requests=2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildConsole } from '../console-ui/build.mjs';
import { tempDir } from '../test/support/config.ts';
import { ADMIN_TOKEN, addOperator, call, passwordOf, signIn } from '../test/support/console.ts';
import { startHarness } from '../test/support/harness.ts';

const N = Number(process.argv[2] ?? 2000);
const assets = await buildConsole(mkdtempSync(join(tmpdir(), 'gh-console-bench-')));
const h = await startHarness({
  backend: 'sqlite',
  extra: { audit: { path: join(tempDir(), 'audit.jsonl') } },
  env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN, GATEHOUSE_CONSOLE_ASSETS: assets },
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
try {
  await addOperator(h.storeUrl, 'bench', 'admin');
  // Recorded traffic: N requests, a tenth of them to a model a directive suspends.
  const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] });
  const send = (model: string) => fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: body(model) }).then((r) => r.arrayBuffer());
  await call(h.url, 'POST', '/directives', { token: ADMIN_TOKEN, body: { id: 'bench-1', models: ['paced'], effect: 'suspend', authority: 'bench', reference: 'r', by: 'bench', why: 'bench' } });
  for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, j) => send((i + j) % 10 === 0 ? 'paced' : 'lite')));
  for (let i = 2; i <= 5; i++) await call(h.url, 'POST', '/directives', { token: ADMIN_TOKEN, body: { id: `bench-${i}`, models: ['frontier'], effect: 'require-licence', authority: 'bench', reference: 'r', by: 'bench', why: 'bench' } });

  const t0 = performance.now();
  await signIn(h.url, 'bench');
  const signInMs = performance.now() - t0;

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${h.url}/console`);
  await page.getByLabel('Operator name').fill('bench');
  await page.getByLabel('Password').fill(passwordOf('bench'));
  await page.getByLabel('Password').press('Enter');
  await page.getByTestId('who').waitFor();

  const best = async (fn: () => Promise<void>) => {
    let min = Infinity;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await fn();
      min = Math.min(min, performance.now() - s);
    }
    return min;
  };
  const fresh = async (hash: string, ready: () => Promise<unknown>) => {
    await page.goto('about:blank');
    await page.goto(`${h.url}/console/#/${hash}`);
    await ready();
  };
  const baseline = await best(async () => {
    await page.goto('about:blank');
    await page.goto(`${h.url}/healthz`);
    await page.getByText('ok').first().waitFor();
  });
  const overview = await best(() => fresh('overview', async () => {
    await page.getByTestId('total-requests').filter({ hasText: String(N) }).waitFor();
    await page.getByRole('img', { name: 'Spend over the last 24 h (USD)' }).waitFor();
  }));
  const directives = await best(() => fresh('directives', () => page.getByTestId('state-bench-5').waitFor()));
  const audit = await best(() => fresh('audit', async () => {
    await page.getByTestId('chain-status').filter({ hasText: 'Chain verified' }).waitFor();
    await page.getByText('records, newest first').waitFor();
  }));
  const fmt = (ms: number) => `${ms.toFixed(0)} ms (${(ms / baseline).toFixed(1)}× baseline)`;
  console.log(`recorded requests: ${N}; audit records: ${N + 10}+`);
  console.log(`baseline, /healthz in the same browser: ${baseline.toFixed(0)} ms`);
  console.log(`overview (usage + 24 h series over ${N} audit records, 5 charts): ${fmt(overview)}`);
  console.log(`directives (list + pending approvals): ${fmt(directives)}`);
  console.log(`audit (chain verification of the whole log + search of the last 200): ${fmt(audit)}`);
  console.log(`sign-in API call (scrypt N=2^15 verify): ${signInMs.toFixed(0)} ms`);
} finally {
  await browser.close();
  await h.close();
  rmSync(assets, { recursive: true, force: true });
}
