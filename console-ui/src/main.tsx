/**
 * The Gatehouse operator console: a single-page app over the admin API (same origin, session cookie, CSRF header).
 * Pages: sign-in (password or single sign-on), Overview, Directives (issue with blast-radius preview, approvals,
 * history), Keys (search, create, revoke, the policy decision per model as a chain), Licences (the ledger), Abuse
 * review (suspected rings; approve, downgrade or dismiss each), Classifier review (refusals marked right or wrong,
 * exported as JSONL), Programmes (trusted-access applications: grant, reject, revoke), Audit
 * (search and chain verification). Hash routing (#/directives) so every page is a link; each page focuses its heading.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Overview } from './pages/overview';
import { Programmes } from './pages/programmes';

type Json = any;
interface User { name: string; role: string; via: string }
interface Reply { status: number; body: Json }

function csrfToken(): string {
  const m = /(?:^|;\s*)gh_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : '';
}

let onSignedOut: () => void = () => {};

export async function api(method: string, path: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  const r = await fetch(`/admin/v1${path}`, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  let parsed: Json = null;
  try {
    parsed = await r.json();
  } catch {
    parsed = null;
  }
  if (r.status === 401 && path !== '/session') onSignedOut();
  return { status: r.status, body: parsed };
}

export const errorText = (r: Reply) => (r.body?.error ? `${r.body.error.type}: ${r.body.error.message}` : `HTTP ${r.status}`);
const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '—');

export function Heading({ children }: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [children]);
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}

export function ErrorLine({ text }: { text: string | null }) {
  return text ? <p role="alert" class="error">{text}</p> : null;
}

function Login({ onIn }: { onIn: (u: User) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [sso, setSso] = useState<{ label: string; url: string } | null>(null);
  useEffect(() => {
    void api('GET', '/session/methods').then((r) => (r.status === 200 && r.body?.sso ? setSso(r.body.sso) : undefined));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/session', { name, password });
    if (r.status !== 200) return setErr(errorText(r));
    onIn({ name: r.body.operator, role: r.body.role, via: 'session' });
  };
  return (
    <main id="main" class="login">
      <Heading>Sign in to Gatehouse</Heading>
      <form onSubmit={submit} aria-label="Sign in">
        <label for="login-name">Operator name</label>
        <input id="login-name" name="name" autoComplete="username" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <button type="submit">Sign in</button>
        <ErrorLine text={err} />
      </form>
      {sso ? (
        <p class="sso">
          <a class="button" href={sso.url} data-testid="sso">{sso.label}</a>
        </p>
      ) : null}
    </main>
  );
}

interface Draft { models: string; effect: string; population: string; authority: string; reference: string; why: string }
const EMPTY: Draft = { models: '', effect: 'suspend', population: '{}', authority: '', reference: '', why: '' };

function toDirective(d: Draft, by: string): Json {
  return { models: d.models.split(',').map((m) => m.trim()).filter(Boolean), effect: d.effect, population: JSON.parse(d.population || '{}'), authority: d.authority, reference: d.reference, why: d.why, by };
}

function Field({ id, label, children }: { id: string; label: string; children: Json }) {
  return (
    <>
      <label for={id}>{label}</label>
      {children}
    </>
  );
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The blast radius of a directive change (`POST /admin/v1/replay/preview`: the replay engine over the last 24 h of
 * recorded traffic, decided as if the change were made now).
 */
function Preview({ p, testid = 'blast-radius' }: { p: Json; testid?: string }) {
  const parts: [string, Json][] = [['would be refused', p.refused], ['rerouted', p.rerouted], ['newly served', p.served]];
  const shown = parts.filter(([, g], i) => i === 0 || g.count > 0);
  const examples: string[] = [...p.refused.examples, ...p.rerouted.examples, ...p.served.examples].slice(0, 5);
  const a = p.affected;
  return (
    <div class="card" role="status" aria-label="Blast radius" data-testid={testid}>
      <strong>Blast radius</strong> over the last {p.window.hours} h ({plural(p.requests, 'recorded request')}):{' '}
      {shown.map(([label, g], i) => (
        <span key={label}>{i ? ', ' : ''}<b data-testid={`${testid}-${label.split(' ').pop()}`}>{g.count}</b> {label} ({pct(g.share)})</span>
      ))}
      .
      <div data-testid={`${testid}-affected`}>Affected: {plural(a.keys, 'key')}, {plural(a.accounts, 'account')}, {plural(a.orgs, 'organisation')}{a.orgIds.length ? ` (${a.orgIds.slice(0, 8).join(', ')}${a.orgs > 8 ? ', …' : ''})` : ''}.</div>
      {Object.keys(p.refused.byModel).length ? <div>Refused by model: {Object.entries(p.refused.byModel).map(([m, n]) => `${m} ${n}`).join(', ')}</div> : null}
      {examples.length ? <div>Example requests: {examples.map((id, i) => <span key={id}>{i ? ', ' : ''}<code>{id}</code></span>)}</div> : null}
      {p.truncated ? <div>Only the first million requests of the window were replayed.</div> : null}
    </div>
  );
}

/** Runs a preview; the error is the caller's to show. */
async function blastRadius(body: Json): Promise<{ ok: Json } | { err: string }> {
  const r = await api('POST', '/replay/preview', { ...body, examples: 5 });
  return r.status === 200 ? { ok: r.body } : { err: `Preview failed: ${errorText(r)}` };
}

interface Amending { id: string; models: string; effect: string; population: string; why: string; original: Json }

function Directives({ user }: { user: User }) {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [preview, setPreview] = useState<Json | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [list, setList] = useState<Json[]>([]);
  const [approvals, setApprovals] = useState<Json[]>([]);
  const [reviews, setReviews] = useState<Json[]>([]);
  const [emergency, setEmergency] = useState<{ id: string; reason: string } | null>(null);
  const [history, setHistory] = useState<{ id: string; entries: Json[] } | null>(null);
  const [lifting, setLifting] = useState<{ id: string; why: string; preview: Json | null } | null>(null);
  const [amending, setAmending] = useState<Amending | null>(null);
  const [amendPreview, setAmendPreview] = useState<Json | null>(null);
  const canChange = user.role === 'operator' || user.role === 'admin';
  const reload = () => {
    void api('GET', '/directives').then((r) => r.status === 200 && setList(r.body.directives));
    void api('GET', '/approvals?status=pending').then((r) => r.status === 200 && setApprovals(r.body.approvals));
    void api('GET', '/approvals?status=review-required').then((r) => r.status === 200 && setReviews(r.body.approvals));
  };
  useEffect(reload, []);
  const set = (k: keyof Draft) => (e: Event) => {
    setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
    setPreview(null);
  };
  const build = (): Json | null => {
    try {
      return toDirective(draft, user.name);
    } catch (e) {
      setErr(`Population is not valid JSON: ${(e as Error).message}`);
      return null;
    }
  };
  const doPreview = async () => {
    setErr(null);
    const d = build();
    if (!d) return;
    const r = await blastRadius({ directive: d });
    if ('err' in r) return setErr(r.err);
    setPreview(r.ok);
  };
  const issue = async () => {
    setErr(null);
    const d = build();
    if (!d) return;
    const r = await api('POST', '/directives', d);
    if (r.status === 202) setMessage(`Held for approval (${r.body.approval.id}): a second operator must approve this suspension.`);
    else if (r.status === 201) setMessage(`Directive ${r.body.directive.id} issued (${r.body.directive.state}).`);
    else return setErr(errorText(r));
    setDraft(EMPTY);
    setPreview(null);
    reload();
  };
  const decide = async (id: string, what: 'approve' | 'reject') => {
    setErr(null);
    const r = await api('POST', `/approvals/${id}/${what}`, {});
    if (r.status !== 200) return setErr(errorText(r));
    setMessage(what === 'approve' ? `Approved ${id}: ${r.body.directive ? `directive ${r.body.directive.id} ${({ 'directive.issue': 'issued', 'directive.lift': 'lifted' } as Record<string, string>)[r.body.approval.kind] ?? 'amended'}` : `key ${r.body.key.id} revoked`}.` : `Rejected ${id}.`);
    reload();
  };
  const applyNow = async (e: Event) => {
    e.preventDefault();
    if (!emergency) return;
    setErr(null);
    const r = await api('POST', `/approvals/${emergency.id}/emergency`, { reason: emergency.reason });
    if (r.status !== 200) return setErr(errorText(r));
    setMessage(`Applied ${emergency.id} in an emergency: another operator must review it.`);
    setEmergency(null);
    reload();
  };
  const markReviewed = async (id: string) => {
    setErr(null);
    const r = await api('POST', `/approvals/${id}/review`, {});
    if (r.status !== 200) return setErr(errorText(r));
    setMessage(`Reviewed ${id}.`);
    reload();
  };
  const previewLift = async () => {
    if (!lifting) return;
    setErr(null);
    const r = await blastRadius({ lift: lifting.id });
    if ('err' in r) return setErr(r.err);
    setLifting({ ...lifting, preview: r.ok });
  };
  const lift = async (e: Event) => {
    e.preventDefault();
    if (!lifting) return;
    if (!lifting.preview) return void previewLift();
    setErr(null);
    const r = await api('POST', `/directives/${encodeURIComponent(lifting.id)}/lift`, { by: user.name, why: lifting.why });
    if (r.status !== 200 && r.status !== 202) return setErr(errorText(r));
    setMessage(r.status === 202 ? `Held for approval: lifting ${lifting.id} waits for a second operator (${r.body.approval.id}).` : `Directive ${lifting.id} lifted.`);
    setLifting(null);
    reload();
  };
  const startAmend = (d: Json) => {
    setLifting(null);
    setAmendPreview(null);
    setAmending({ id: d.id, models: d.models.join(', '), effect: d.effect, population: JSON.stringify(d.population ?? {}), why: '', original: d });
  };
  const setAmend = (k: 'models' | 'effect' | 'population' | 'why') => (e: Event) => {
    if (!amending) return;
    setAmending({ ...amending, [k]: (e.target as HTMLInputElement).value });
    if (k !== 'why') setAmendPreview(null);
  };
  /** The amended fields, or null (with the error shown) when the population is not JSON. */
  const amendedFields = (a: Amending): Json | null => {
    try {
      return { models: a.models.split(',').map((m) => m.trim()).filter(Boolean), effect: a.effect, population: JSON.parse(a.population || '{}') };
    } catch (e) {
      setErr(`Population is not valid JSON: ${(e as Error).message}`);
      return null;
    }
  };
  const previewAmend = async () => {
    if (!amending) return;
    setErr(null);
    const f = amendedFields(amending);
    if (!f) return;
    const o = amending.original;
    // The directive as amended, under its own id: the draft replaces the one in force.
    const r = await blastRadius({ directive: { id: o.id, models: f.models, effect: f.effect, population: f.population, authority: o.authority, reference: o.reference, effectiveAt: o.effectiveAt, ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}), by: user.name, why: amending.why || 'amendment preview' } });
    if ('err' in r) return setErr(r.err);
    setAmendPreview(r.ok);
  };
  const amend = async (e: Event) => {
    e.preventDefault();
    if (!amending) return;
    if (!amendPreview) return void previewAmend();
    setErr(null);
    const f = amendedFields(amending);
    if (!f) return;
    const r = await api('PATCH', `/directives/${encodeURIComponent(amending.id)}`, { ...f, by: user.name, why: amending.why });
    if (r.status !== 200 && r.status !== 202) return setErr(errorText(r));
    setMessage(r.status === 202 ? `Held for approval: amending ${amending.id} waits for a second operator (${r.body.approval.id}).` : `Directive ${amending.id} amended.`);
    setAmending(null);
    setAmendPreview(null);
    reload();
  };
  const showHistory = async (id: string) => {
    const r = await api('GET', `/directives/${encodeURIComponent(id)}`);
    if (r.status === 200) setHistory({ id, entries: r.body.history });
  };
  return (
    <main id="main">
      <Heading>Directives</Heading>
      <ErrorLine text={err} />
      {message ? <p role="status" class="ok">{message}</p> : null}
      {canChange ? (
        <section aria-labelledby="issue-h">
          <h2 id="issue-h">Issue a directive</h2>
          <form class="grid" onSubmit={(e) => { e.preventDefault(); void (preview ? issue() : doPreview()); }}>
            <Field id="d-models" label="Models (comma-separated)"><input id="d-models" required value={draft.models} onInput={set('models')} /></Field>
            <Field id="d-effect" label="Effect">
              <select id="d-effect" value={draft.effect} onChange={set('effect')}>
                <option value="suspend">suspend</option>
                <option value="require-licence">require-licence</option>
              </select>
            </Field>
            <Field id="d-population" label="Population (JSON)"><textarea id="d-population" value={draft.population} onInput={set('population')} /></Field>
            <Field id="d-authority" label="Authority"><input id="d-authority" required value={draft.authority} onInput={set('authority')} /></Field>
            <Field id="d-reference" label="Reference"><input id="d-reference" required value={draft.reference} onInput={set('reference')} /></Field>
            <Field id="d-why" label="Why"><input id="d-why" required value={draft.why} onInput={set('why')} /></Field>
            <span />
            <div>
              <button type="button" class="secondary" onClick={doPreview}>Preview blast radius</button>{' '}
              <button type="button" onClick={issue} disabled={!preview} title={preview ? '' : 'preview the blast radius first'}>Confirm and issue</button>
            </div>
          </form>
          {preview ? <Preview p={preview} /> : null}
        </section>
      ) : <p>Your role ({user.role}) may read directives but not change them.</p>}
      <section aria-labelledby="approvals-h">
        <h2 id="approvals-h">Waiting for approval</h2>
        {approvals.length === 0 ? <p>No requests are waiting.</p> : null}
        <table>
          {approvals.length ? <thead><tr><th scope="col">Request</th><th scope="col">Requested by</th><th scope="col">Models</th><th scope="col">Effect</th><th scope="col">Population</th><th scope="col">At</th><th scope="col">Decision</th></tr></thead> : null}
          <tbody>
            {approvals.map((a) => {
              const own = a.requestedBy === user.name;
              return (
                <tr key={a.id}>
                  <td><code>{a.id}</code> <small>{a.kind}{a.payload.id ? ` ${a.payload.id}` : ''}</small></td><td>{a.requestedBy}</td><td>{(a.payload.models ?? []).join(', ')}</td><td>{a.payload.effect}</td><td><code>{JSON.stringify(a.payload.population ?? {})}</code></td><td>{when(a.requestedAt)}</td>
                  <td>
                    {canChange ? (
                      <>
                        <button type="button" onClick={() => decide(a.id, 'approve')} disabled={own} aria-label={`Approve ${a.id}`}>Approve</button>{' '}
                        <button type="button" class="secondary" onClick={() => decide(a.id, 'reject')} aria-label={`Reject ${a.id}`}>{own ? 'Withdraw' : 'Reject'}</button>
                        {own ? <div><small>You requested this: another operator must approve it.</small></div> : null}
                        {own && emergency?.id !== a.id ? <button type="button" class="secondary" onClick={() => setEmergency({ id: a.id, reason: '' })} aria-label={`Apply ${a.id} now (emergency)`}>Apply now (emergency)</button> : null}
                        {own && emergency?.id === a.id ? (
                          <form onSubmit={applyNow}>
                            <label for={`emergency-${a.id}`}>Emergency reason for {a.id}</label>
                            <input id={`emergency-${a.id}`} required value={emergency?.reason ?? ''} onInput={(e) => setEmergency({ id: a.id, reason: (e.target as HTMLInputElement).value })} />
                            <button type="submit">Apply now</button>{' '}
                            <button type="button" class="secondary" onClick={() => setEmergency(null)}>Cancel</button>
                          </form>
                        ) : null}
                      </>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      {reviews.length ? (
        <section aria-labelledby="reviews-h">
          <h2 id="reviews-h">Applied in an emergency: review required</h2>
          <table>
            <thead><tr><th scope="col">Request</th><th scope="col">Requested by</th><th scope="col">Reason</th><th scope="col">Review</th></tr></thead>
            <tbody>
              {reviews.map((a) => (
                <tr key={a.id}>
                  <td><code>{a.id}</code> <small>{a.kind}{a.resultId ? ` ${a.resultId}` : ''}</small></td><td>{a.requestedBy}</td><td>{a.emergencyReason}</td>
                  <td>{canChange && a.requestedBy !== user.name ? <button type="button" onClick={() => markReviewed(a.id)} aria-label={`Mark ${a.id} reviewed`}>Mark reviewed</button> : <small>Another operator must review this.</small>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      <section aria-labelledby="list-h">
        <h2 id="list-h">All directives</h2>
        <table>
          <thead><tr><th scope="col">Id</th><th scope="col">Models</th><th scope="col">Effect</th><th scope="col">State</th><th scope="col">Issued by</th><th scope="col">Issued</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id}><td><code>{d.id}</code></td><td>{d.models.join(', ')}</td><td>{d.effect}</td><td data-testid={`state-${d.id}`}>{d.state}</td><td>{d.issuedBy}</td><td>{when(d.issuedAt)}</td><td>
                <button type="button" class="secondary" onClick={() => showHistory(d.id)} aria-label={`History of ${d.id}`}>History</button>{' '}
                {canChange && d.state !== 'lifted' ? <><button type="button" class="secondary" onClick={() => startAmend(d)} aria-label={`Amend ${d.id}`}>Amend</button>{' '}</> : null}
                {canChange && d.state !== 'lifted' ? <button type="button" class="secondary" onClick={() => { setAmending(null); setLifting({ id: d.id, why: '', preview: null }); }} aria-label={`Lift ${d.id}`}>Lift</button> : null}
              </td></tr>
            ))}
          </tbody>
        </table>
        {lifting ? (
          <form class="card" onSubmit={lift} aria-label={`Lift ${lifting.id}`}>
            <label for="lift-why">Reason for lifting {lifting.id}</label>{' '}
            <input id="lift-why" required value={lifting.why} onInput={(e) => setLifting({ ...lifting, why: (e.target as HTMLInputElement).value })} />{' '}
            <button type="button" class="secondary" onClick={previewLift}>Preview lift</button>{' '}
            <button type="submit" disabled={!lifting.preview} title={lifting.preview ? '' : 'preview the blast radius first'}>Confirm lift</button>{' '}
            <button type="button" class="secondary" onClick={() => setLifting(null)}>Cancel</button>
            {lifting.preview ? <Preview p={lifting.preview} testid="lift-radius" /> : null}
          </form>
        ) : null}
        {amending ? (
          <form class="card grid" onSubmit={amend} aria-label={`Amend ${amending.id}`}>
            <strong>Amend {amending.id}</strong><span />
            <Field id="a-models" label="Models (comma-separated)"><input id="a-models" required value={amending.models} onInput={setAmend('models')} /></Field>
            <Field id="a-effect" label="Effect">
              <select id="a-effect" value={amending.effect} onChange={setAmend('effect')}>
                {['suspend', 'require-licence', ...(['suspend', 'require-licence'].includes(amending.effect) ? [] : [amending.effect])].map((v) => <option key={v} value={v}>{v}</option>)}
              </select>
            </Field>
            <Field id="a-population" label="Population (JSON)"><textarea id="a-population" value={amending.population} onInput={setAmend('population')} /></Field>
            <Field id="a-why" label="Reason for the amendment"><input id="a-why" required value={amending.why} onInput={setAmend('why')} /></Field>
            <span />
            <div>
              <button type="button" class="secondary" onClick={previewAmend}>Preview amendment</button>{' '}
              <button type="submit" disabled={!amendPreview} title={amendPreview ? '' : 'preview the blast radius first'}>Confirm amendment</button>{' '}
              <button type="button" class="secondary" onClick={() => setAmending(null)}>Cancel</button>
            </div>
            {amendPreview ? <Preview p={amendPreview} testid="amend-radius" /> : null}
          </form>
        ) : null}
        {history ? (
          <div class="card" aria-label={`History of ${history.id}`}>
            <strong>History of {history.id}</strong>
            <ol>{history.entries.map((h) => <li key={h.id}>{when(h.at)} — {h.action} by {h.by}: {h.why}</li>)}</ol>
          </div>
        ) : null}
      </section>
    </main>
  );
}

/** Downloads the records shown, oldest first, one JSON object per line (as `gatehouse audit export` writes them). */
function exportRows(rows: Json[]) {
  const text = rows.slice().reverse().map((r) => JSON.stringify(r)).join('\n') + '\n';
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  a.download = 'gatehouse-audit.jsonl';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function Audit() {
  const [verify, setVerify] = useState<Reply | null>(null);
  const [q, setQ] = useState({ action: '', account: '', model: '', kind: '', from: '', to: '', limit: '200' });
  const [rows, setRows] = useState<Json[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => void api('GET', '/console/audit-verify').then(setVerify), []);
  const search = async (e?: Event) => {
    e?.preventDefault();
    setErr(null);
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== ''));
    const r = await api('GET', `/audit?${params}`);
    if (r.status !== 200) return setErr(errorText(r));
    setRows((r.body.records as Json[]).slice().reverse());
  };
  useEffect(() => void search(), []);
  const input = (k: keyof typeof q, label: string, type = 'text') => (
    <Field id={`a-${k}`} label={label}><input id={`a-${k}`} type={type} value={q[k]} onInput={(e) => setQ({ ...q, [k]: (e.target as HTMLInputElement).value })} /></Field>
  );
  return (
    <main id="main">
      <Heading>Audit log</Heading>
      <div class="card" role="status" data-testid="chain-status">
        {verify === null ? 'Verifying the chain…' : verify.status !== 200 ? <span class="error">Chain verification unavailable: {errorText(verify)}</span> : verify.body.ok ? (
          <span class="ok">Chain verified: {verify.body.records} records, head #{verify.body.head.seq}, {verify.body.checkpoints} checkpoints.</span>
        ) : (
          <span class="error">Chain BROKEN at record {verify.body.firstBad?.seq ?? '?'}: {verify.body.firstBad?.reason ?? ''}</span>
        )}
      </div>
      <h2>Search</h2>
      <form class="grid" onSubmit={search} aria-label="Search the audit log">
        {input('action', 'Action (admin records)')}
        {input('account', 'Account')}
        {input('model', 'Model')}
        <Field id="a-kind" label="Kind">
          <select id="a-kind" value={q.kind} onChange={(e) => setQ({ ...q, kind: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option><option value="request">request</option><option value="admin">admin</option>
          </select>
        </Field>
        {input('from', 'From (ISO time)')}
        {input('to', 'To (ISO time)')}
        {input('limit', 'Limit', 'number')}
        <span /><div><button type="submit">Search</button></div>
      </form>
      <ErrorLine text={err} />
      {rows ? (
        <p>
          {rows.length} records, newest first.{' '}
          <button type="button" class="secondary" onClick={() => exportRows(rows)}>Export JSONL</button>
        </p>
      ) : null}
      <table>
        <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target / outcome</th></tr></thead>
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={r.seq}>
              <td>{r.seq}</td><td>{when(r.time)}</td><td>{r.kind}</td>
              <td>{r.kind === 'admin' ? r.actor : r.principal?.accountId ?? '—'}</td>
              <td>{r.kind === 'admin' ? r.action : `${r.modelRequested} → ${r.modelServed ?? '—'}`}</td>
              <td>{r.kind === 'admin' ? r.target ?? '' : `${r.outcome}${r.code ? ` (${r.code})` : ''}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** One model's access decision for a key, as a readable chain: directives, then rules, then licences. */
function Chain({ ex }: { ex: Json }) {
  const v = ex.verdict ?? {};
  const directives = (ex.directives ?? []) as Json[];
  const rules = (ex.rules ?? []) as Json[];
  const licences = (ex.licences ?? []) as Json[];
  const firstRule = rules.findIndex((r) => r.matched);
  return (
    <ol class="chain">
      {directives.length === 0 ? <li>No directive applies to this model.</li> : directives.map((d) => (
        <li key={`d-${d.id}`}>Directive <code>{d.id}</code> ({d.effect}, {d.state}): {d.matched ? <b>matches</b> : 'does not match'}{d.outcome ? ` → ${d.outcome}` : ''}{d.reasons?.length ? ` — ${d.reasons.join('; ')}` : ''}</li>
      ))}
      {rules.slice(0, firstRule < 0 ? rules.length : firstRule + 1).map((r) => (
        <li key={`r-${r.id}-${r.index}`}>Rule <code>{r.id}</code> ({r.action}): {r.matched ? <b>matches</b> : 'does not match'}{r.reasons?.length ? ` — ${r.reasons.join('; ')}` : ''}</li>
      ))}
      {licences.map((l) => <li key={`l-${l.id}`}>Licence <code>{l.id}</code>: {l.covers ? <b>covers</b> : 'does not cover'} — {l.why}</li>)}
      <li>Decided by {ex.decidedBy}: <b>{v.action === 'refuse' ? `refuse (${v.code})` : v.action === 'route' ? `route to ${v.model}` : 'allow'}</b>{v.message ? ` — ${v.message}` : ''}</li>
    </ol>
  );
}

interface KeyDraft { accountId: string; orgId: string; nationalities: string; residence: string; kyc: string; tier: string; programmes: string; label: string }
const NO_KEY: KeyDraft = { accountId: '', orgId: '', nationalities: '', residence: '', kyc: 'none', tier: 'general', programmes: '', label: '' };

function Keys({ user }: { user: User }) {
  const [keys, setKeys] = useState<Json[] | null>(null);
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [draft, setDraft] = useState<KeyDraft>(NO_KEY);
  const [revoking, setRevoking] = useState<{ id: string; reason: string } | null>(null);
  const [explained, setExplained] = useState<{ id: string; rows: { model: string; ex: Json | null; err: string | null }[] } | null>(null);
  const canChange = user.role === 'operator' || user.role === 'admin';
  const reload = (st = status) => void api('GET', `/keys${st ? `?status=${st}` : ''}`).then((r) => (r.status === 200 ? setKeys(r.body.keys) : setErr(errorText(r))));
  useEffect(() => reload(), []);
  const needle = q.trim().toLowerCase();
  const shown = (keys ?? []).filter((k) => !needle || [k.id, k.prefix, k.accountId, k.orgId, k.label, k.tier, ...(k.programmes ?? [])].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle)));
  const set = (k: keyof KeyDraft) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  const create = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const body: Json = { accountId: draft.accountId.trim(), kyc: draft.kyc, tier: draft.tier.trim() || 'general', nationalities: list(draft.nationalities.toUpperCase()), programmes: list(draft.programmes) };
    if (draft.orgId.trim()) body.orgId = draft.orgId.trim();
    if (draft.residence.trim()) body.residence = draft.residence.trim().toUpperCase();
    if (draft.label.trim()) body.label = draft.label.trim();
    const r = await api('POST', '/keys', body);
    if (r.status !== 201) return setErr(errorText(r));
    setMessage(`Key ${r.body.key.id} created for ${r.body.key.accountId}. Its secret, shown this once: ${r.body.secret}`);
    setDraft(NO_KEY);
    reload();
  };
  const revoke = async (e: Event) => {
    e.preventDefault();
    if (!revoking) return;
    setErr(null);
    const r = await api('DELETE', `/keys/${encodeURIComponent(revoking.id)}`, { reason: revoking.reason });
    if (r.status !== 200) return setErr(errorText(r));
    setMessage(`Key ${revoking.id} revoked.`);
    setRevoking(null);
    reload();
  };
  const explain = async (id: string) => {
    setErr(null);
    const m = await api('GET', '/console/models');
    if (m.status !== 200) return setErr(errorText(m));
    const rows = await Promise.all((m.body.models as string[]).map(async (model) => {
      const r = await api('POST', '/policy/explain', { keyId: id, model });
      return { model, ex: r.status === 200 ? r.body.explanation : null, err: r.status === 200 ? null : errorText(r) };
    }));
    setExplained({ id, rows });
  };
  return (
    <main id="main">
      <Heading>Keys</Heading>
      <ErrorLine text={err} />
      {message ? <p role="status" class="ok">{message}</p> : null}
      <form class="row" role="search" aria-label="Search keys" onSubmit={(e) => { e.preventDefault(); reload(); }}>
        <label for="k-q">Search (id, account, organisation, label, programme)</label>
        <input id="k-q" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <label for="k-status">Status</label>
        <select id="k-status" value={status} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; setStatus(v); reload(v); }}>
          <option value="">any</option><option value="active">active</option><option value="revoked">revoked</option>
        </select>
      </form>
      <table>
        <thead><tr><th scope="col">Key</th><th scope="col">Account</th><th scope="col">Organisation</th><th scope="col">Attributes</th><th scope="col">Label</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {shown.map((k) => (
            <tr key={k.id}>
              <td><code>{k.id}</code><br /><small>{k.prefix}…</small></td><td>{k.accountId}</td><td>{k.orgId ?? '—'}</td>
              <td><small>nationalities {(k.nationalities ?? []).join(', ') || '—'}; residence {k.residence ?? '—'}; KYC {k.kyc}; tier {k.tier}{k.programmes?.length ? `; programmes ${k.programmes.join(', ')}` : ''}{k.staff ? '; staff' : ''}</small></td>
              <td>{k.label ?? ''}</td><td data-testid={`key-status-${k.id}`}>{k.status}</td><td>{when(k.createdAt)}</td>
              <td>
                <button type="button" class="secondary" onClick={() => explain(k.id)} aria-label={`Explain ${k.id}`}>Explain</button>{' '}
                {canChange && k.status === 'active' ? <button type="button" class="secondary" onClick={() => setRevoking({ id: k.id, reason: '' })} aria-label={`Revoke ${k.id}`}>Revoke</button> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {keys && shown.length === 0 ? <p>No keys match.</p> : null}
      {revoking ? (
        <form class="card" onSubmit={revoke} aria-label={`Revoke ${revoking.id}`}>
          <label for="k-reason">Reason for revoking {revoking.id}</label>{' '}
          <input id="k-reason" required value={revoking.reason} onInput={(e) => setRevoking({ ...revoking, reason: (e.target as HTMLInputElement).value })} />{' '}
          <button type="submit">Confirm revoke</button>{' '}
          <button type="button" class="secondary" onClick={() => setRevoking(null)}>Cancel</button>
        </form>
      ) : null}
      {explained ? (
        <section aria-labelledby="explain-h" data-testid="explain">
          <h2 id="explain-h">Policy decision for {explained.id}, per model</h2>
          {explained.rows.map((row) => (
            <details key={row.model} open={row.ex?.verdict?.action !== 'allow'}>
              <summary><code>{row.model}</code>: {row.err ? <span class="error">{row.err}</span> : row.ex.verdict.action === 'refuse' ? <b class="error">refused ({row.ex.verdict.code})</b> : row.ex.verdict.action === 'route' ? <b>routed to {row.ex.verdict.model}</b> : <b class="ok">allowed</b>}</summary>
              {row.ex ? <Chain ex={row.ex} /> : null}
            </details>
          ))}
        </section>
      ) : null}
      {canChange ? (
        <section aria-labelledby="create-h">
          <h2 id="create-h">Create a key</h2>
          <form class="grid" onSubmit={create}>
            <Field id="k-account" label="Account id"><input id="k-account" required value={draft.accountId} onInput={set('accountId')} /></Field>
            <Field id="k-org" label="Organisation id"><input id="k-org" value={draft.orgId} onInput={set('orgId')} /></Field>
            <Field id="k-nat" label="Nationalities (ISO codes, comma-separated)"><input id="k-nat" value={draft.nationalities} onInput={set('nationalities')} /></Field>
            <Field id="k-res" label="Residence (ISO code)"><input id="k-res" value={draft.residence} onInput={set('residence')} /></Field>
            <Field id="k-kyc" label="KYC level">
              <select id="k-kyc" value={draft.kyc} onChange={set('kyc')}>
                {['none', 'basic', 'verified-identity', 'verified-organisation'].map((l) => <option key={l} value={l}>{l}</option>)}
              </select>
            </Field>
            <Field id="k-tier" label="Tier"><input id="k-tier" value={draft.tier} onInput={set('tier')} /></Field>
            <Field id="k-prog" label="Programmes (comma-separated)"><input id="k-prog" value={draft.programmes} onInput={set('programmes')} /></Field>
            <Field id="k-label" label="Label"><input id="k-label" value={draft.label} onInput={set('label')} /></Field>
            <span /><div><button type="submit">Create key</button></div>
          </form>
        </section>
      ) : null}
    </main>
  );
}

function Licences() {
  const [rows, setRows] = useState<Json[] | null>(null);
  const [by, setBy] = useState<'org' | 'account'>('org');
  const [who, setWho] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const load = async (e?: Event) => {
    e?.preventDefault();
    setErr(null);
    const r = await api('GET', `/licences${who.trim() ? `?${by}=${encodeURIComponent(who.trim())}` : ''}`);
    if (r.status !== 200) return setErr(errorText(r));
    setRows(r.body.licences);
  };
  useEffect(() => void load(), []);
  const now = Date.now();
  const state = (l: Json) => (l.revokedAt ? 'revoked' : now < l.validFrom ? 'not yet valid' : now >= l.validTo ? 'expired' : 'in force');
  return (
    <main id="main">
      <Heading>Licences</Heading>
      <ErrorLine text={err} />
      <form class="row" role="search" aria-label="Search licences" onSubmit={load}>
        <label for="l-by">Licensee kind</label>
        <select id="l-by" value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value as 'org' | 'account')}>
          <option value="org">organisation</option><option value="account">account</option>
        </select>
        <label for="l-who">Licensee id</label>
        <input id="l-who" value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      {rows && rows.length === 0 ? <p>No licences.</p> : null}
      <table>
        <thead><tr><th scope="col">Licence</th><th scope="col">Licensee</th><th scope="col">Models</th><th scope="col">Nationalities</th><th scope="col">Destinations</th><th scope="col">Valid</th><th scope="col">Authority and reference</th><th scope="col">State</th><th scope="col">Granted by</th></tr></thead>
        <tbody>
          {(rows ?? []).map((l) => (
            <tr key={l.id}>
              <td><code>{l.id}</code></td><td>{l.licenseeType} {l.licensee}</td><td>{l.models.join(', ')}</td><td>{l.nationalities.join(', ')}</td><td>{l.destinations.join(', ')}</td>
              <td>{when(l.validFrom)} – {when(l.validTo)}</td><td>{l.authority}: {l.reference}</td>
              <td data-testid={`licence-state-${l.id}`}>{state(l)}{l.revokedReason ? ` (${l.revokedReason})` : ''}</td><td>{l.grantedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

const ACTIONS = ['flag', 'require-kyc', 'degrade', 'suspend'];

function Abuse({ user }: { user: User }) {
  const [rings, setRings] = useState<Json[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [targets, setTargets] = useState<Record<string, string>>({});
  const mayDecide = user.role !== 'viewer' && user.role !== 'auditor';
  const load = async () => {
    const r = await api('GET', '/abuse/rings?limit=200');
    if (r.status !== 200) return setErr(errorText(r));
    setRings(r.body.rings);
  };
  useEffect(() => void load(), []);
  const decide = async (ring: Json, decision: 'approve' | 'downgrade' | 'dismiss') => {
    setErr(null);
    setDone(null);
    const body: Json = { decision };
    if (notes[ring.id]?.trim()) body.note = notes[ring.id]!.trim();
    if (decision === 'downgrade' && targets[ring.id]) body.action = targets[ring.id];
    const r = await api('POST', `/abuse/rings/${encodeURIComponent(ring.id)}/review`, body);
    if (r.status !== 201) return setErr(errorText(r));
    setDone(`Ring ${ring.id}: ${r.body.review.decision} (members now: ${r.body.review.action}), recorded as ${r.body.review.label}.`);
    await load();
  };
  return (
    <main id="main">
      <Heading>Abuse review</Heading>
      <ErrorLine text={err} />
      {done ? <p role="status" data-testid="abuse-done">{done}</p> : null}
      {rings && rings.length === 0 ? <p>No suspected rings in the latest analysis.</p> : null}
      {(rings ?? []).map((r) => {
        const below = ACTIONS.slice(0, Math.max(0, ACTIONS.indexOf(r.level)));
        return (
          <section key={r.id} class="card" aria-labelledby={`ring-${r.id}`} data-testid={`ring-${r.id}`}>
            <h2 id={`ring-${r.id}`}>{r.id}</h2>
            <p>
              Score <strong>{r.score}</strong>, level <strong data-testid={`ring-level-${r.id}`}>{r.level ?? '—'}</strong>, {r.size} members, seen {when(r.firstSeen)} – {when(r.lastSeen)}
              {r.explainedByOrg ? `, all in verified organisation ${r.explainedByOrg}` : ''}
            </p>
            <p>Members: {(r.members ?? []).map((m: string) => <code key={m}>{m} </code>)}</p>
            <table>
              <caption>Linking signals</caption>
              <thead><tr><th scope="col">Signal</th><th scope="col">Strength</th><th scope="col">Detail</th><th scope="col">Example requests</th></tr></thead>
              <tbody>
                {r.evidence.map((e: Json) => <tr key={e.signal}><td>{e.signal}</td><td>{e.strength}</td><td>{e.detail}</td><td>{e.exampleRequestIds.slice(0, 3).map((id: string) => <code key={id}>{id} </code>)}</td></tr>)}
              </tbody>
            </table>
            {r.timeline?.length ? (
              <table>
                <caption>Timeline (members per UTC day)</caption>
                <thead><tr><th scope="col">Day</th><th scope="col">Signed up</th><th scope="col">First request</th><th scope="col">Last request</th></tr></thead>
                <tbody>{r.timeline.map((t: Json) => <tr key={t.day}><td>{t.day}</td><td>{t.signedUp}</td><td>{t.started}</td><td>{t.lastActive}</td></tr>)}</tbody>
              </table>
            ) : null}
            {r.decision ? (
              <p data-testid={`ring-decision-${r.id}`}>Reviewed: <strong>{r.decision.decision}</strong> by {r.decision.decidedBy} at {when(r.decision.decidedAt)} (members: {r.decision.action}){r.decision.note ? ` — ${r.decision.note}` : ''}</p>
            ) : mayDecide ? (
              <div class="row">
                <label for={`note-${r.id}`}>Note for {r.id}</label>
                <input id={`note-${r.id}`} value={notes[r.id] ?? ''} onInput={(e) => setNotes({ ...notes, [r.id]: (e.target as HTMLInputElement).value })} />
                <button type="button" onClick={() => decide(r, 'approve')}>Approve ({r.level})</button>
                {below.length ? (
                  <>
                    <label for={`to-${r.id}`}>Downgrade {r.id} to</label>
                    <select id={`to-${r.id}`} value={targets[r.id] ?? below[below.length - 1]} onChange={(e) => setTargets({ ...targets, [r.id]: (e.target as HTMLSelectElement).value })}>
                      {below.map((a) => <option key={a} value={a}>{a}</option>)}
                    </select>
                    <button type="button" onClick={() => decide(r, 'downgrade')}>Downgrade</button>
                  </>
                ) : null}
                <button type="button" class="secondary" onClick={() => decide(r, 'dismiss')}>Dismiss</button>
              </div>
            ) : <p>Not reviewed yet.</p>}
          </section>
        );
      })}
    </main>
  );
}

function ClassifierReview({ user }: { user: User }) {
  const [rows, setRows] = useState<Json[] | null>(null);
  const [hours, setHours] = useState('24');
  const [err, setErr] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const mayMark = user.role === 'operator' || user.role === 'admin';
  // Prompt text only where encrypted retention holds it and the role may read it (admin); each read is audited by
  // the route (retention.read).
  const mayReadText = user.role === 'admin';
  const [texts, setTexts] = useState<Record<string, string>>({});
  const showText = async (requestId: string, time: number) => {
    const r = await api('GET', `/audit/text/${encodeURIComponent(requestId)}?time=${time}`);
    const shown = r.status === 200 ? String(r.body.prompt ?? '(no prompt text kept)') : errorText(r);
    setTexts((t) => ({ ...t, [requestId]: shown }));
  };
  const load = async (e?: Event) => {
    e?.preventDefault();
    setErr(null);
    const r = await api('GET', `/console/classifier-refusals?hours=${encodeURIComponent(hours.trim())}`);
    if (r.status !== 200) return setErr(errorText(r));
    setRows(r.body.refusals);
  };
  useEffect(() => void load(), []);
  const mark = async (requestId: string, m: 'right' | 'wrong') => {
    setErr(null);
    const r = await api('POST', '/console/classifier-marks', { requestId, mark: m });
    if (r.status !== 201) return setErr(errorText(r));
    setDone(`Request ${requestId} marked ${m}.`);
    await load();
  };
  const exportMarks = async () => {
    const r = await fetch('/admin/v1/console/classifier-marks', { credentials: 'same-origin' });
    if (r.status !== 200) return setErr(`HTTP ${r.status}`);
    const url = URL.createObjectURL(new Blob([await r.text()], { type: 'application/x-ndjson' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'classifier-marks.jsonl';
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <main id="main">
      <Heading>Classifier review</Heading>
      <ErrorLine text={err} />
      {done ? <p role="status" data-testid="mark-done">{done}</p> : null}
      <form class="row" role="search" aria-label="Classifier refusals window" onSubmit={load}>
        <label for="c-hours">Last hours</label>
        <input id="c-hours" inputMode="numeric" value={hours} onInput={(e) => setHours((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
        <button type="button" class="secondary" onClick={exportMarks}>Export marks (JSONL)</button>
      </form>
      {rows && rows.length === 0 ? <p>No classifier refusals in this window.</p> : null}
      <table>
        <thead><tr><th scope="col">Time</th><th scope="col">Request</th><th scope="col">Model</th><th scope="col">Label</th><th scope="col">Scores</th><th scope="col">Mark</th></tr></thead>
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={r.requestId} data-testid={`refusal-${r.requestId}`}>
              <td>{when(r.time)}</td><td><code>{r.requestId}</code></td><td>{r.model ?? '—'}</td><td>{r.label}</td>
              <td>{Object.entries(r.scores as Record<string, number>).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}</td>
              <td>
                <span data-testid={`mark-${r.requestId}`}>{r.mark ? `${r.mark} (${r.markedBy})` : '—'}</span>
                {mayMark ? (
                  <>
                    {' '}<button type="button" aria-label={`Mark ${r.requestId} right`} onClick={() => mark(r.requestId, 'right')}>Right</button>
                    {' '}<button type="button" class="secondary" aria-label={`Mark ${r.requestId} wrong`} onClick={() => mark(r.requestId, 'wrong')}>Wrong</button>
                  </>
                ) : null}
                {mayReadText ? (
                  <>
                    {' '}<button type="button" class="secondary" aria-label={`Show the retained text of ${r.requestId}`} onClick={() => showText(r.requestId, r.time)}>Text</button>
                    {texts[r.requestId] !== undefined ? <pre data-testid={`text-${r.requestId}`}>{texts[r.requestId]}</pre> : null}
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

const PAGES = [
  { id: 'overview', title: 'Overview' },
  { id: 'directives', title: 'Directives' },
  { id: 'keys', title: 'Keys' },
  { id: 'licences', title: 'Licences' },
  { id: 'abuse', title: 'Abuse review' },
  { id: 'classifier', title: 'Classifier review' },
  { id: 'programmes', title: 'Programmes' },
  { id: 'audit', title: 'Audit' },
] as const;

function route(): string {
  const id = location.hash.replace(/^#\/?/, '');
  return PAGES.some((p) => p.id === id) ? id : 'overview';
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [page, setPage] = useState(route());
  onSignedOut = () => setUser(null);
  useEffect(() => {
    void api('GET', '/session').then((r) => setUser(r.status === 200 ? r.body : null));
    const on = () => setPage(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  if (user === undefined) return <p>Loading…</p>;
  if (user === null) return <Login onIn={(u) => setUser(u)} />;
  const signOut = async () => {
    await api('DELETE', '/session');
    setUser(null);
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.querySelector<HTMLElement>('main h1')?.focus(); }}>Skip to content</a>
      <header>
        <strong>Gatehouse</strong>
        <nav aria-label="Console pages">
          {PAGES.map((p) => <a key={p.id} href={`#/${p.id}`} aria-current={page === p.id ? 'page' : undefined}>{p.title}</a>)}
        </nav>
        <span class="who" data-testid="who">{user.name} ({user.role})<button type="button" class="secondary" onClick={signOut}>Sign out</button></span>
      </header>
      {page === 'directives' ? <Directives user={user} /> : page === 'keys' ? <Keys user={user} /> : page === 'licences' ? <Licences /> : page === 'abuse' ? <Abuse user={user} /> : page === 'classifier' ? <ClassifierReview user={user} /> : page === 'audit' ? <Audit /> : page === 'programmes' ? <Programmes user={user} /> : <Overview />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
