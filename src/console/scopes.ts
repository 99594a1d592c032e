/**
 * Scopes of admin bearer tokens: which parts of the admin API a token may call, on top of its role. A scope is
 * `<area>:read`, `<area>:write` (which includes read), `*:read` or `*`; the area is the first path segment under
 * /admin/v1 (`keys`, `directives`, `audit`, …). Pure functions of data.
 */
export const SCOPE_AREAS = [
  'abuse',
  'approvals',
  'audit',
  'console',
  'directives',
  'export-control',
  'incidents',
  'keys',
  'licences',
  'ocsf',
  'policy',
  'programmes',
  'replay',
  'screening',
  'tokens',
  'usage',
] as const;

const SCOPE = new RegExp(`^(\\*|(\\*|${SCOPE_AREAS.map((a) => a.replace('-', '\\-')).join('|')}):(read|write))$`);

/** The problems with a list of scopes (empty when valid). */
export function scopeProblems(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || scopes.length === 0) return ['scopes must be a non-empty list, e.g. ["directives:write", "audit:read"]'];
  if (scopes.length > 50) return ['at most 50 scopes'];
  const bad = scopes.filter((s) => typeof s !== 'string' || !SCOPE.test(s));
  return bad.map((s) => `scope '${String(s).slice(0, 60)}' is not <area>:read, <area>:write, *:read or * (areas: ${SCOPE_AREAS.join(', ')})`);
}

/** The scope a call needs: `<area>:read` for GET/HEAD, `<area>:write` otherwise; path relative to /admin/v1. */
export function scopeNeeded(method: string, path: string): string {
  const area = path.split('/')[1] ?? '';
  return `${area}:${method === 'GET' || method === 'HEAD' ? 'read' : 'write'}`;
}

/** Whether `scopes` cover `method path` (path relative to /admin/v1, no query string). */
export function scopesCover(scopes: readonly string[], method: string, path: string): boolean {
  const [area, access] = scopeNeeded(method, path).split(':') as [string, 'read' | 'write'];
  return scopes.some((s) => {
    if (s === '*') return true;
    const [a, x] = s.split(':');
    return (a === '*' || a === area) && (x === 'write' || access === 'read');
  });
}
