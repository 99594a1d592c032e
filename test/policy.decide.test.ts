import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal, Verdict } from '../src/core/types.ts';
import { compileDirective, type DirectiveRecord } from '../src/directives/model.ts';
import { compilePolicyText } from '../src/policy/compile.ts';
import { shippedGroups } from '../src/population/groups.ts';
import { LicenceIndex, type LicenceRecord } from '../src/policy/licences.ts';
import { AccessSnapshot } from '../src/policy/snapshot.ts';

const MODELS = ['frontier', 'frontier-cyber', 'frontier-lite'];
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOUR = 3_600_000;

function principal(keyId: string, attrs: Partial<Principal>): Principal {
  return { keyId, accountId: `acct-${keyId}`, orgId: null, nationalities: [], residence: null, kyc: 'basic', programmes: [], tier: 'general', staff: false, ...attrs };
}

const P = {
  us: principal('us', { nationalities: ['US'], residence: 'US' }),
  dual: principal('dual', { nationalities: ['US', 'GB'], residence: 'GB' }),
  ukStaff: principal('ukStaff', { nationalities: ['GB'], residence: 'GB', staff: true, tier: 'internal', orgId: 'provider' }),
  cnInUs: principal('cnInUs', { nationalities: ['CN'], residence: 'US' }),
  defender: principal('defender', { nationalities: ['DE'], residence: 'DE', orgId: 'grid-defenders-7', programmes: ['critical-infrastructure-defenders'], kyc: 'verified-organisation' }),
};
const DEFENDER_ORGS = Array.from({ length: 100 }, (_, i) => `grid-defenders-${i}`);

function directive(id: string, fields: Partial<DirectiveRecord>): DirectiveRecord {
  return {
    id,
    models: ['frontier', 'frontier-cyber'],
    population: {},
    effect: 'suspend',
    effectiveAt: NOW - HOUR,
    expiresAt: null,
    authority: 'US Department of Commerce',
    reference: 'Order 2026-17',
    status: 'active',
    issuedAt: NOW - HOUR,
    issuedBy: 'ops',
    updatedAt: NOW - HOUR,
    liftedAt: null,
    ...fields,
  };
}

function snapshot(directives: DirectiveRecord[], policyYaml = 'rules: []', licences: LicenceRecord[] = []): AccessSnapshot {
  const groups = shippedGroups();
  const policy = compilePolicyText(policyYaml, 'policy.yaml', { models: MODELS });
  const compiled = directives.map((d) => compileDirective(d, { groups, models: MODELS, routeEdges: policy.routeEdges }));
  return new AccessSnapshot(policy, compiled, LicenceIndex.build(licences, groups), MODELS);
}

function outcome(v: Verdict): string {
  return v.action === 'refuse' ? `refuse:${v.code}` : v.action === 'route' ? `route:${v.model}` : 'allow';
}

test('the five-step emergency scenario, every principal at every step', () => {
  const d1 = directive('D1', { population: { nationality: { noneOf: ['US'] } } });
  const d1Narrowed = { ...d1, models: ['frontier'] };
  const d2 = directive('D2', { models: ['frontier-cyber'], population: { nationality: { noneOf: ['US'] }, org: { notIn: DEFENDER_ORGS } } });
  const lifted = (d: DirectiveRecord) => ({ ...d, status: 'lifted' as const, liftedAt: NOW });
  const steps: Array<{ name: string; directives: DirectiveRecord[]; expect: Record<keyof typeof P, [string, string]> }> = [
    { name: '1 normal access', directives: [], expect: { us: ['allow', 'allow'], dual: ['allow', 'allow'], ukStaff: ['allow', 'allow'], cnInUs: ['allow', 'allow'], defender: ['allow', 'allow'] } },
    {
      name: '2 suspended for anyone holding no US nationality',
      directives: [d1],
      expect: {
        us: ['allow', 'allow'],
        dual: ['allow', 'allow'],
        ukStaff: ['refuse:directive_suspended', 'refuse:directive_suspended'],
        cnInUs: ['refuse:directive_suspended', 'refuse:directive_suspended'],
        defender: ['refuse:directive_suspended', 'refuse:directive_suspended'],
      },
    },
    {
      name: '3 frontier-cyber restored to the allowlisted organisations',
      directives: [d1Narrowed, d2],
      expect: {
        us: ['allow', 'allow'],
        dual: ['allow', 'allow'],
        ukStaff: ['refuse:directive_suspended', 'refuse:directive_suspended'],
        cnInUs: ['refuse:directive_suspended', 'refuse:directive_suspended'],
        defender: ['refuse:directive_suspended', 'allow'],
      },
    },
    {
      name: '4 frontier restored for everyone',
      directives: [lifted(d1Narrowed), d2],
      expect: {
        us: ['allow', 'allow'],
        dual: ['allow', 'allow'],
        ukStaff: ['allow', 'refuse:directive_suspended'],
        cnInUs: ['allow', 'refuse:directive_suspended'],
        defender: ['allow', 'allow'],
      },
    },
    { name: '5 frontier-cyber restored worldwide', directives: [lifted(d1Narrowed), lifted(d2)], expect: { us: ['allow', 'allow'], dual: ['allow', 'allow'], ukStaff: ['allow', 'allow'], cnInUs: ['allow', 'allow'], defender: ['allow', 'allow'] } },
  ];
  for (const step of steps) {
    const snap = snapshot(step.directives);
    for (const [name, p] of Object.entries(P) as Array<[keyof typeof P, Principal]>) {
      const got = [outcome(snap.decide(p, 'frontier', NOW)), outcome(snap.decide(p, 'frontier-cyber', NOW))];
      assert.deepEqual(got, step.expect[name], `step ${step.name}, principal ${name}`);
    }
  }
});

test('a suspension refusal is 403 and cites the directive; explain names it', () => {
  const snap = snapshot([directive('D1', { population: { nationality: { noneOf: ['US'] } } })]);
  const v = snap.decide(P.ukStaff, 'frontier', NOW);
  assert.equal(v.action, 'refuse');
  if (v.action !== 'refuse') return;
  assert.equal(v.status, 403);
  assert.equal(v.ref?.directive, 'D1');
  assert.match(v.message, /Order 2026-17/);
  const ex = snap.explain(P.ukStaff, 'frontier', NOW);
  assert.equal(ex.decidedBy, 'directive D1');
  assert.equal(ex.directives[0]!.matched, true);
  assert.match(ex.directives[0]!.reasons.join(' '), /\[GB\] includes none of \{US\}/);
  const exDual = snap.explain(P.dual, 'frontier', NOW);
  assert.equal(exDual.directives[0]!.matched, false);
  assert.equal(exDual.decidedBy, 'default (allow)');
});

test('scheduled and expired directives are not in force', () => {
  const pop = { nationality: { noneOf: ['US'] } };
  const scheduled = snapshot([directive('S', { population: pop, effectiveAt: NOW + HOUR })]);
  assert.equal(outcome(scheduled.decide(P.cnInUs, 'frontier', NOW)), 'allow');
  assert.equal(outcome(scheduled.decide(P.cnInUs, 'frontier', NOW + HOUR)), 'refuse:directive_suspended');
  const expiring = snapshot([directive('E', { population: pop, expiresAt: NOW + 1 })]);
  assert.equal(outcome(expiring.decide(P.cnInUs, 'frontier', NOW)), 'refuse:directive_suspended');
  assert.equal(outcome(expiring.decide(P.cnInUs, 'frontier', NOW + 1)), 'allow');
  assert.equal(expiring.isDirectiveGoverned('frontier'), true);
  assert.equal(expiring.isDirectiveGoverned('frontier-lite'), false);
});

test('dual nationals: anyOutside vs noneOf vs allOf', () => {
  const policy = (op: string) => `rules:\n  - id: r\n    models: ['*']\n    when: {nationality: {${op}: [US]}}\n    action: deny\n    code: nat_${op.toLowerCase()}\n`;
  const table: Array<[string, Principal, boolean]> = [
    ['anyOutside', P.dual, true], // holds a foreign nationality
    ['anyOutside', P.us, false],
    ['noneOf', P.dual, false], // holds US nationality
    ['noneOf', P.ukStaff, true],
    ['allOf', P.dual, false],
    ['allOf', P.us, true],
    ['anyOf', P.dual, true],
    ['anyOutside', principal('stateless', {}), true], // unknown nationality counts as outside
    ['noneOf', principal('stateless', {}), true],
    ['anyOf', principal('stateless', {}), false],
  ];
  for (const [op, p, denied] of table) {
    const v = snapshot([], policy(op)).decide(p, 'frontier', NOW);
    assert.equal(v.action === 'refuse', denied, `${op} for ${p.keyId}`);
  }
});

const POLICY = `
default: allow
rules:
  - id: embargo
    models: ['*']
    when: {nationality: {anyOf: ['group:embargoed']}}
    action: deny
    code: embargoed_nationality
    message: Not available to nationals of embargoed countries.
  - id: cyber-programme
    models: [frontier-cyber]
    when: {programme: {noneOf: [critical-infrastructure-defenders]}}
    action: require
    require: {programme: critical-infrastructure-defenders}
  - id: cyber-kyc
    models: [frontier-cyber]
    action: require
    require: {kyc: verified-organisation}
  - id: d1-licence
    models: [frontier]
    when: {nationality: {anyOf: ['group:ear-d1']}}
    action: require
    require: {licence: true}
  - id: lite-for-tier
    models: [frontier]
    when: {tier: {in: [trial]}}
    action: route
    to: frontier-lite
  - id: org-only
    models: [frontier-lite]
    when: {org: {in: [acme]}, staff: false}
    action: deny
    code: acme_blocked
`;

test('policy rules: first match, deny/require/route, licence citation, org index', () => {
  const lic: LicenceRecord = {
    id: 'L-1', licenseeType: 'org', licensee: 'labco', models: ['frontier'], nationalities: ['CN'], destinations: ['*'],
    validFrom: NOW - HOUR, validTo: NOW + HOUR, reference: 'D123456', authority: 'BIS', revokedAt: null, revokedReason: null, grantedAt: NOW - HOUR, grantedBy: 'ops',
  };
  const snap = snapshot([], POLICY, [lic]);
  const iran = principal('ir', { nationalities: ['IR'] });
  const v1 = snap.decide(iran, 'frontier', NOW);
  assert.equal(outcome(v1), 'refuse:embargoed_nationality');
  assert.equal(v1.action === 'refuse' && v1.ref?.rule, 'embargo');

  const v2 = snap.decide(P.us, 'frontier-cyber', NOW);
  assert.equal(outcome(v2), 'refuse:programme_required');
  assert.deepEqual(v2.action === 'refuse' && v2.requires, ['programme:critical-infrastructure-defenders']);
  assert.equal(outcome(snap.decide(P.defender, 'frontier-cyber', NOW)), 'allow');

  assert.equal(outcome(snap.decide(P.cnInUs, 'frontier', NOW)), 'refuse:licence_required');
  const cnLab = principal('cnlab', { nationalities: ['CN'], orgId: 'labco' });
  const v3 = snap.decide(cnLab, 'frontier', NOW);
  assert.deepEqual(v3, { action: 'allow', ref: { rule: 'd1-licence', licence: 'L-1' } });
  assert.equal(outcome(snap.decide(cnLab, 'frontier', NOW + HOUR)), 'refuse:licence_required', 'expired licence');
  const revoked = snapshot([], POLICY, [{ ...lic, revokedAt: NOW - 1 }]);
  assert.equal(outcome(revoked.decide(cnLab, 'frontier', NOW)), 'refuse:licence_required', 'revoked licence');

  assert.equal(outcome(snap.decide(principal('t', { nationalities: ['US'], tier: 'trial' }), 'frontier', NOW)), 'route:frontier-lite');
  assert.equal(outcome(snap.decide(principal('a', { nationalities: ['US'], orgId: 'acme' }), 'frontier-lite', NOW)), 'refuse:acme_blocked');
  assert.equal(outcome(snap.decide(principal('a', { nationalities: ['US'], orgId: 'acme', staff: true }), 'frontier-lite', NOW)), 'allow');
  assert.equal(outcome(snap.decide(principal('b', { nationalities: ['US'], orgId: 'other' }), 'frontier-lite', NOW)), 'allow');
});

test('require-licence directive: refused without a licence, allowed with one, licence cited', () => {
  const lic: LicenceRecord = {
    id: 'L-9', licenseeType: 'account', licensee: 'acct-ukStaff', models: ['frontier*'], nationalities: ['group:five-eyes'], destinations: ['GB'],
    validFrom: NOW - HOUR, validTo: NOW + HOUR, reference: 'EL-77', authority: 'BIS', revokedAt: null, revokedReason: null, grantedAt: NOW, grantedBy: 'ops',
  };
  const snap = snapshot([directive('R', { effect: 'require-licence', population: { nationality: { anyOutside: ['US'] } } })], 'rules: []', [lic]);
  const v = snap.decide(P.cnInUs, 'frontier', NOW);
  assert.equal(outcome(v), 'refuse:licence_required');
  assert.deepEqual(v.action === 'refuse' && v.requires, ['licence']);
  assert.deepEqual(snap.decide(P.ukStaff, 'frontier', NOW), { action: 'allow', ref: { directive: 'R', licence: 'L-9' } });
  // dual US/UK holds a foreign nationality: anyOutside [US] matches, and no licence is held
  assert.equal(outcome(snap.decide(P.dual, 'frontier', NOW)), 'refuse:licence_required');
  assert.equal(outcome(snap.decide(P.us, 'frontier', NOW)), 'allow');
});

test('suspend overrides route and require-licence regardless of order', () => {
  const snap = snapshot([
    directive('A-route', { effect: 'route:frontier-lite', models: ['frontier'], effectiveAt: NOW - 3 * HOUR }),
    directive('B-suspend', { models: ['frontier'], population: { staff: true } }),
  ]);
  assert.equal(outcome(snap.decide(P.ukStaff, 'frontier', NOW)), 'refuse:directive_suspended');
  assert.equal(outcome(snap.decide(P.us, 'frontier', NOW)), 'route:frontier-lite');
});

test('default deny when configured', () => {
  const snap = snapshot([], 'default: deny\nrules:\n  - {id: us-only, models: ["*"], when: {nationality: {anyOf: [US]}}, action: allow}\n');
  assert.equal(outcome(snap.decide(P.us, 'frontier', NOW)), 'allow');
  assert.equal(outcome(snap.decide(P.cnInUs, 'frontier', NOW)), 'refuse:policy_default_deny');
});
