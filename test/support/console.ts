/** Helpers for the console tests: operators made through the CLI, sessions through the admin API, audit polling. */
import assert from 'node:assert/strict';
import { run as operatorsCli } from '../../src/console/cli.ts';

export const ADMIN_TOKEN = 'console-test-admin-token';

export async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await operatorsCli(['operators', ...argv], { out: (s) => void (out += s), err: (s) => void (err += s), env: { ...process.env, ...env } });
  return { code, out, err };
}

export async function addOperator(storeUrl: string, name: string, role: string, extra: string[] = []): Promise<void> {
  const r = await cli(['add', name, '--role', role, '--password-env', 'OP_PW', '--store', storeUrl, ...extra], { OP_PW: passwordOf(name) });
  assert.equal(r.code, 0, r.err);
}

export const passwordOf = (name: string) => `correct horse ${name} battery`;

export interface Session {
  cookie: string;
  csrf: string;
  setCookie: string[];
}

export async function signIn(url: string, name: string, password = passwordOf(name)): Promise<Session> {
  const r = await fetch(`${url}/admin/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
  assert.equal(r.status, 200, await r.clone().text());
  const setCookie = r.headers.getSetCookie();
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  const body = (await r.json()) as { csrf: string };
  return { cookie, csrf: body.csrf, setCookie };
}

export async function call(url: string, method: string, path: string, opts: { session?: Session; csrf?: string | null; token?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.session) headers.cookie = opts.session.cookie;
  if (opts.session && opts.csrf !== null) headers['x-csrf-token'] = opts.csrf ?? opts.session.csrf;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const r = await fetch(`${url}/admin/v1${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, body };
}

/** The admin audit records matching `pred`, waiting (bounded) for the asynchronous append. */
export async function auditRecords(url: string, pred: (r: any) => boolean, atLeast = 1): Promise<any[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await call(url, 'GET', '/audit?kind=admin&limit=10000', { token: ADMIN_TOKEN });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const found = (r.body.records as any[]).filter(pred);
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((res) => setTimeout(res, 50));
  }
}
