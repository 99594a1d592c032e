/**
 * The Programmes page: trusted-access programme applications from `GET /admin/v1/programmes/applications`, with their
 * status, subject, evidence and decision. Operators and admins grant an applied application until an expiry (with an
 * optional safeguard tier and reason), reject it with a reason, or revoke a granted one with a reason; analysts and
 * viewers read only. Every decision is sent in the signed-in operator's name; the server's errors are shown as sent.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorLine, errorText, Heading } from '../main';

type Json = any;
interface User { name: string; role: string }
interface Deciding { id: string; decision: 'grant' | 'reject' | 'revoke'; reason: string; expires: string; tier: string }

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '—');

export function Programmes({ user }: { user: User }) {
  const [apps, setApps] = useState<Json[]>([]);
  const [status, setStatus] = useState('');
  const [deciding, setDeciding] = useState<Deciding | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const canChange = user.role === 'operator' || user.role === 'admin';
  const reload = () => {
    void api('GET', `/programmes/applications${status ? `?status=${status}` : ''}`).then((r) => (r.status === 200 ? setApps(r.body.applications) : setErr(errorText(r))));
  };
  useEffect(reload, [status]);
  const field = (k: keyof Deciding) => (e: Event) => deciding && setDeciding({ ...deciding, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!deciding) return;
    setErr(null);
    const d = deciding;
    let body: Json = { by: user.name, reason: d.reason };
    if (d.decision === 'grant') {
      const expiresAt = Date.parse(d.expires);
      if (Number.isNaN(expiresAt)) return setErr('Expiry is not a valid time (use ISO 8601, e.g. 2030-01-01T00:00:00Z).');
      body = { by: user.name, expiresAt, ...(d.reason.trim() ? { reason: d.reason } : {}), ...(d.tier.trim() ? { tier: d.tier.trim() } : {}) };
    }
    const r = await api('POST', `/programmes/applications/${encodeURIComponent(d.id)}/${d.decision}`, body);
    if (r.status !== 200) return setErr(errorText(r));
    setMessage(`Application ${d.id} ${r.body.application.status}.`);
    setDeciding(null);
    reload();
  };
  return (
    <main id="main">
      <Heading>Programmes</Heading>
      {message ? <p role="status">{message}</p> : null}
      <ErrorLine text={err} />
      {canChange ? null : <p>Your role ({user.role}) may read programme applications but not decide them.</p>}
      <label for="programmes-status">Status</label>
      <select id="programmes-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
        <option value="">any</option>
        {['applied', 'granted', 'rejected', 'revoked'].map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      {apps.length === 0 ? <p>No applications.</p> : null}
      <table>
        <thead><tr><th scope="col">Application</th><th scope="col">Programme</th><th scope="col">Subject</th><th scope="col">Evidence</th><th scope="col">Status</th><th scope="col">Decision</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {apps.map((a) => (
            <tr key={a.id}>
              <td><code>{a.id}</code><br /><small>{when(a.createdAt)}</small></td><td>{a.programme}</td><td>{a.subject.kind}:{a.subject.id}</td>
              <td>{a.evidence.text}{a.evidence.links.map((l: string) => <div key={l}><small>{l}</small></div>)}</td>
              <td data-testid={`programme-status-${a.id}`}>{a.status}{a.expiresAt ? (a.status === 'granted' ? ` until ${when(a.expiresAt)}` : ` (grant was until ${when(a.expiresAt)})`) : ''}{a.tier ? ` (tier ${a.tier})` : ''}</td>
              <td>{a.decidedBy ? `${a.decidedBy}, ${when(a.decidedAt)}${a.reason ? `: ${a.reason}` : ''}` : '—'}</td>
              <td>
                {canChange && a.status === 'applied' ? (
                  <>
                    <button type="button" onClick={() => setDeciding({ id: a.id, decision: 'grant', reason: '', expires: '', tier: '' })} aria-label={`Grant ${a.id}`}>Grant</button>{' '}
                    <button type="button" class="secondary" onClick={() => setDeciding({ id: a.id, decision: 'reject', reason: '', expires: '', tier: '' })} aria-label={`Reject ${a.id}`}>Reject</button>
                  </>
                ) : null}
                {canChange && a.status === 'granted' ? <button type="button" class="secondary" onClick={() => setDeciding({ id: a.id, decision: 'revoke', reason: '', expires: '', tier: '' })} aria-label={`Revoke ${a.id}`}>Revoke</button> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deciding ? (
        <form onSubmit={submit} aria-label={`${deciding.decision} ${deciding.id}`}>
          <h2>{deciding.decision[0]!.toUpperCase() + deciding.decision.slice(1)} {deciding.id}</h2>
          {deciding.decision === 'grant' ? (
            <>
              <label for="programme-expires">Expires at (ISO time)</label>
              <input id="programme-expires" required value={deciding.expires} onInput={field('expires')} placeholder="2030-01-01T00:00:00Z" />
              <label for="programme-tier">Tier (optional)</label>
              <input id="programme-tier" value={deciding.tier} onInput={field('tier')} />
            </>
          ) : null}
          <label for="programme-reason">{deciding.decision === 'grant' ? 'Reason (optional)' : 'Reason'}</label>
          <input id="programme-reason" required={deciding.decision !== 'grant'} value={deciding.reason} onInput={field('reason')} />
          <button type="submit">Confirm</button>{' '}
          <button type="button" class="secondary" onClick={() => setDeciding(null)}>Cancel</button>
        </form>
      ) : null}
    </main>
  );
}
