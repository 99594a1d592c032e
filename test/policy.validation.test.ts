import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDirective, issueSchema, parseOrThrow, type DirectiveRecord } from '../src/directives/model.ts';
import { compilePolicyText } from '../src/policy/compile.ts';
import { parseGroupFile, shippedGroups } from '../src/population/groups.ts';
import { parseLicenceGrant } from '../src/policy/licences.ts';
import { PolicyValidationError } from '../src/core/validation.ts';

const MODELS = ['frontier', 'frontier-cyber', 'frontier-lite'];

function policyErrors(yaml: string): string[] {
  try {
    compilePolicyText(yaml, 'p.yaml', { models: MODELS });
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError, String(err));
    return err.message.split('\n');
  }
  assert.fail('expected the policy to be rejected');
}

test('policy errors carry file:line:col, JSON path and reason', () => {
  const table: Array<[string, string, RegExp]> = [
    ['unknown field', 'rules:\n  - id: a\n    models: [frontier]\n    action: allow\n    colour: red\n', /^p\.yaml:5:5: rules\[0\]\.colour: unknown field 'colour'$/],
    ['unknown field in predicate', 'rules:\n  - id: a\n    models: [frontier]\n    when:\n      nationality: {anyof: [US]}\n    action: allow\n', /^p\.yaml:5:21: rules\[0\]\.when\.nationality\.anyof: unknown field 'anyof'$/],
    ['unknown country code', 'rules:\n  - id: a\n    models: [frontier]\n    when: {nationality: {anyOf: [US, UK]}}\n    action: deny\n', /^p\.yaml:4:38: rules\[0\]\.when\.nationality\.anyOf\[1\]: 'UK' is not an officially assigned .*use 'GB'/],
    ['lower-case code', 'rules:\n  - {id: a, models: [frontier], when: {residence: {in: [us]}}, action: deny}\n', /p\.yaml:2:.*residence\.in\[0\]: .*upper case/],
    ['unknown group', 'rules:\n  - id: a\n    models: [frontier]\n    when: {nationality: {anyOf: ["group:ear-z9"]}}\n    action: deny\n', /^p\.yaml:4:.*unknown country group 'ear-z9'/],
    ['unknown model', 'rules:\n  - id: a\n    models: [frontier, fronteir]\n    action: allow\n', /^p\.yaml:3:24: rules\[0\]\.models\[1\]: unknown model 'fronteir'/],
    ['glob matching nothing', 'rules:\n  - id: a\n    models: ["gpt-*"]\n    action: allow\n', /matches no model in the catalogue/],
    ['unknown route target', 'rules:\n  - {id: a, models: [frontier], action: route, to: nowhere}\n', /rules\[0\]\.to: unknown route target 'nowhere'/],
    [
      'route cycle',
      'rules:\n  - {id: a, models: [frontier], action: route, to: frontier-lite}\n  - {id: b, models: [frontier-lite], action: route, to: frontier}\n',
      /route cycle: frontier → frontier-lite → frontier/,
    ],
    ['self route', 'rules:\n  - {id: a, models: ["frontier*"], action: route, to: frontier-cyber}\n', /route cycle: frontier-cyber → frontier-cyber/],
    ['empty nationality set', 'rules:\n  - {id: a, models: [frontier], when: {nationality: {anyOf: []}}, action: deny}\n', /can match nobody: the set of nationalities is empty/],
    ['anyOutside all countries', 'countryGroups:\n  world: {version: 1, source: me, asOf: "2026-01-01", countries: ["group:eu"]}\nrules:\n  - {id: a, models: [frontier], when: {nationality: {anyOutside: [' + ALL() + ']}}, action: deny}\n', /can match nobody: the set covers every country/],
    ['org in empty list', 'rules:\n  - {id: a, models: [frontier], when: {org: {in: []}}, action: deny}\n', /rules\[0\]\.when\.org\.in: this predicate can match nobody/],
    ['two operators', 'rules:\n  - {id: a, models: [frontier], when: {nationality: {anyOf: [US], noneOf: [GB]}}, action: deny}\n', /nationality takes exactly one of .* \(got anyOf and noneOf\)/],
    ['route without to', 'rules:\n  - {id: a, models: [frontier], action: route}\n', /rules\[0\]\.to: a route rule needs/],
    ['duplicate id', 'rules:\n  - {id: a, models: [frontier], action: allow}\n  - {id: a, models: [frontier], action: deny}\n', /^p\.yaml:3:.*duplicate rule id 'a'/],
    ['bad action', 'rules:\n  - {id: a, models: [frontier], action: permit}\n', /expected allow, deny, route or require, got "permit"/],
    ['YAML syntax', 'rules:\n  - id: a\n   models: [x\n', /^p\.yaml:\d+:\d+: \(root\): invalid YAML/],
    ['bad kyc', 'rules:\n  - {id: a, models: [frontier], when: {kyc: {atLeast: gold}}, action: allow}\n', /kyc\.atLeast: expected one of none, basic/],
  ];
  for (const [name, yaml, want] of table) {
    const errors = policyErrors(yaml);
    assert.ok(errors.some((e) => want.test(e)), `${name}: got ${JSON.stringify(errors)}`);
  }
});

/** Every officially assigned code, as a YAML flow list body. */
function ALL(): string {
  return [...ISO].join(', ');
}
import { COUNTRY_CODES as ISO } from '../src/population/countries.ts';

test('all errors are reported at once, not just the first', () => {
  const errors = policyErrors('rules:\n  - {id: a, models: [nope], action: allow}\n  - {id: b, models: [frontier], when: {residence: {in: [XX]}}, action: deny}\n');
  assert.equal(errors.length, 2, errors.join('\n'));
});

test('country group files: version must increase on replacement, codes validated', () => {
  assert.throws(() => parseGroupFile('groups:\n  eu: {version: 1, source: x, asOf: "2025-01-01", countries: [FR]}\n', 'g.yaml', shippedGroups()), /g\.yaml:2:.*groups\.eu\.version: group 'eu' replaces version 1/);
  assert.throws(() => parseGroupFile('groups:\n  mine: {version: 1, source: x, asOf: "2025-01-01", countries: [FR, ZZ]}\n', 'g.yaml'), /g\.yaml:2:.*groups\.mine\.countries\[1\]: 'ZZ'/);
  assert.throws(() => parseGroupFile('groups:\n  mine: {version: 1, asOf: "2025-01-01", countries: [FR]}\n', 'g.yaml'), /groups\.mine\.source: is required/);
  const t = parseGroupFile('groups:\n  eu: {version: 2, source: x, asOf: "2026-01-01", countries: ["group:eu", NO]}\n', 'g.yaml', shippedGroups());
  assert.equal(t.get('eu')!.countries.size, 28);
  assert.equal(t.get('eu')!.version, 2);
});

test('shipped groups are valid and cite their source', () => {
  const g = shippedGroups();
  for (const name of ['ear-e1', 'ear-e2', 'ear-d1', 'ear-d2', 'ear-d3', 'ear-d4', 'ear-d5', 'eu', 'five-eyes', 'embargoed']) {
    const group = g.get(name);
    assert.ok(group, name);
    assert.ok(group.source.length > 0 && /^\d{4}-\d{2}-\d{2}$/.test(group.asOf));
  }
  assert.equal(g.get('eu')!.countries.size, 27);
  assert.deepEqual([...g.get('five-eyes')!.countries].sort(), ['AU', 'CA', 'GB', 'NZ', 'US']);
});

function directiveErrors(input: unknown, routeEdges?: Map<string, Set<string>>): string {
  try {
    const v = parseOrThrow(issueSchema, input);
    const rec: DirectiveRecord = { id: 'X', models: v.models, population: v.population, effect: v.effect, effectiveAt: v.effectiveAt ?? 0, expiresAt: v.expiresAt, authority: v.authority, reference: v.reference, status: 'active', issuedAt: 0, issuedBy: v.by, updatedAt: 0, liftedAt: null };
    compileDirective(rec, { groups: shippedGroups(), models: MODELS, ...(routeEdges ? { routeEdges } : {}) });
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError, String(err));
    return err.message;
  }
  assert.fail('expected the directive to be rejected');
}

test('directive errors name the JSON path and reason', () => {
  const base = { models: ['frontier'], population: { nationalities: { noneOf: ['US'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 1', by: 'ops', why: 'order' };
  assert.match(directiveErrors({ ...base, extra: 1 }), /^extra: unknown field 'extra'$/);
  assert.match(directiveErrors({ ...base, models: ['frontier-x'] }), /^models\[0\]: unknown model 'frontier-x'/);
  assert.match(directiveErrors({ ...base, population: { nationality: { noneOf: ['USA'] } } }), /^population\.nationality\.noneOf\[0\]: 'USA' is not an ISO 3166-1 alpha-2/);
  assert.match(directiveErrors({ ...base, population: { org: { in: [] } } }), /^population\.org\.in: this predicate can match nobody/);
  assert.match(directiveErrors({ ...base, population: { colour: 'red' } }), /^population\.colour: unknown field 'colour'$/);
  assert.match(directiveErrors({ ...base, effectiveAt: '2026-11-23T12:00:00Z', expiresAt: '2026-11-23T11:00:00Z' }), /^expiresAt: expiresAt \(2026-11-23T11:00:00\.000Z\) must be after effectiveAt/);
  assert.match(directiveErrors({ ...base, effect: 'pause' }), /^effect: expected 'suspend', 'require-licence' or 'route:MODEL'/);
  assert.match(directiveErrors({ ...base, effect: 'route:frontier' }), /^effect: route cycle: frontier → frontier/);
  assert.match(directiveErrors({ ...base, effect: 'route:frontier-lite' }, new Map([['frontier-lite', new Set(['frontier'])]])), /route cycle: frontier → frontier-lite → frontier/);
  assert.match(directiveErrors({ ...base, effectiveAt: 'tomorrow' }), /^effectiveAt: expected an ISO 8601 time/);
  assert.match(directiveErrors({ ...base, by: undefined }), /^by: is required$/);
});

test('licence grant errors', () => {
  const base = { licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['CN'], validFrom: '2026-01-01T00:00:00Z', validTo: '2027-01-01T00:00:00Z', reference: 'D1', authority: 'BIS', by: 'ops' };
  assert.equal(parseLicenceGrant(base, shippedGroups(), MODELS).validFrom, Date.parse('2026-01-01T00:00:00Z'));
  assert.throws(() => parseLicenceGrant({ ...base, validTo: '2025-01-01T00:00:00Z' }, shippedGroups(), MODELS), /validTo: validTo .* must be after validFrom/);
  assert.throws(() => parseLicenceGrant({ ...base, nationalities: ['XX'] }, shippedGroups(), MODELS), /nationalities\[0\]: 'XX'/);
  assert.throws(() => parseLicenceGrant({ ...base, licensee: { org: 'a', account: 'b' } }, shippedGroups(), MODELS), /licensee: licensee takes exactly one of org, account/);
  assert.throws(() => parseLicenceGrant({ ...base, models: ['nope'] }, shippedGroups(), MODELS), /models\[0\]: unknown model 'nope'/);
});
