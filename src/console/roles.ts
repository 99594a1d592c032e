/**
 * What each role may do on the admin API, by method and path (relative to /admin/v1). A service token is the
 * `admin` role. Read means GET/HEAD; everything else changes state.
 *   viewer    dashboards: usage, directives and approvals (read), policy status, its own session
 *   analyst   viewer + review data (abuse, incidents, keys, licences, programmes, audit records — not retained prompt text),
 *             replay and policy explain (simulations that change nothing), and ring review decisions
 *   operator  analyst + changes to directives, keys, licences, incidents, screening reviews, programme decisions,
 *             classifier marks; approves requests, applies their own in an emergency (when enabled), reviews
 *             emergency changes
 *   admin     everything, retained prompt text included
 *   auditor   read-only: audit log and its verification, directive, licence, incident and approval history,
 *             OCSF and export-control evidence; never keys, usage or prompt text. Time-boxed (the account expires).
 */
import type { Role } from './operators.ts';

type Rule = { methods: 'read' | 'write' | 'any'; path: RegExp };

const r = (methods: Rule['methods'], path: RegExp): Rule => ({ methods, path });

const VIEWER: Rule[] = [
  r('read', /^\/session$/),
  r('read', /^\/usage$/),
  r('read', /^\/directives(\/[^/]+)?$/),
  r('read', /^\/approvals(\/[^/]+)?$/),
  r('read', /^\/policy\/status$/),
  r('read', /^\/console\/overview$/),
];
const ANALYST: Rule[] = [
  ...VIEWER,
  r('read', /^\/abuse\//),
  r('read', /^\/incidents(\/|$)/),
  r('read', /^\/keys(\/[^/]+)?$/),
  r('read', /^\/licences(\/[^/]+)?$/),
  r('read', /^\/audit$/),
  r('read', /^\/console\/audit-verify$/),
  r('read', /^\/console\/models$/),
  r('read', /^\/console\/classifier-(refusals|marks)$/),
  r('read', /^\/export-control\//),
  r('read', /^\/ocsf$/),
  r('read', /^\/screening\//),
  r('read', /^\/programmes\//),
  r('write', /^\/replay(\/preview)?$/),
  r('write', /^\/policy\/explain$/),
  r('write', /^\/abuse\/rings\/[^/]+\/review$/),
];
const OPERATOR: Rule[] = [
  ...ANALYST,
  r('write', /^\/directives(\/|$)/),
  r('write', /^\/keys(\/|$)/),
  r('write', /^\/licences(\/|$)/),
  r('write', /^\/incidents(\/|$)/),
  r('write', /^\/screening\//),
  r('write', /^\/programmes\//),
  r('write', /^\/approvals\/[^/]+\/(approve|reject|emergency|review)$/),
  r('write', /^\/console\/classifier-marks$/),
];
const AUDITOR: Rule[] = [
  r('read', /^\/session$/),
  r('read', /^\/audit$/),
  r('read', /^\/console\/audit-verify$/),
  r('read', /^\/directives(\/[^/]+)?$/),
  r('read', /^\/licences(\/[^/]+)?$/),
  r('read', /^\/incidents(\/|$)/),
  r('read', /^\/approvals(\/[^/]+)?$/),
  r('read', /^\/ocsf$/),
  r('read', /^\/export-control\//),
];

const TABLE: Record<Role, Rule[] | 'all'> = { viewer: VIEWER, analyst: ANALYST, operator: OPERATOR, admin: 'all', auditor: AUDITOR };

/** Whether `role` may call `method path`; path is relative to /admin/v1 and has no query string. */
export function permits(role: Role, method: string, path: string): boolean {
  const rules = TABLE[role];
  if (rules === 'all') return true;
  const read = method === 'GET' || method === 'HEAD';
  return rules.some((rule) => (rule.methods === 'any' || (rule.methods === 'read') === read) && rule.path.test(path));
}
