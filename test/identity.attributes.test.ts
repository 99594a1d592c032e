import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTRY_CODES, countryCodeProblem, isCountryCode } from '../src/population/countries.ts';
import { parseCreate, parseUpdate, KeyValidationError } from '../src/identity/attributes.ts';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KeyValidationError, `expected KeyValidationError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected a validation error');
}

test('the country list holds exactly the 249 officially assigned ISO 3166-1 alpha-2 codes', () => {
  assert.equal(COUNTRY_CODES.size, 249);
  for (const code of ['US', 'GB', 'DE', 'CN', 'RU', 'IR', 'KP', 'SS', 'BQ', 'CW', 'SX', 'AX', 'TW', 'PS', 'VA']) assert.ok(isCountryCode(code), code);
  // Cross-check with ICU: every listed code has a region name; every unlisted code ICU names is reserved/withdrawn.
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  for (const code of COUNTRY_CODES) assert.notEqual(names.of(code), code, `ICU has no name for ${code}`);
  for (const code of ['UK', 'EL', 'EU', 'XK', 'YU', 'AN', 'ZZ', 'AA', 'us', 'USA', '']) assert.ok(!isCountryCode(code), code);
  assert.match(countryCodeProblem('UK')!, /use 'GB'/);
  assert.match(countryCodeProblem('USA')!, /expected two letters/);
});

test('parseCreate fills defaults and normalises country codes to upper case', () => {
  assert.deepEqual(parseCreate({ accountId: ' acct-1 ', nationalities: ['us', 'Gb'], residence: 'de' }), {
    accountId: 'acct-1',
    orgId: null,
    nationalities: ['US', 'GB'],
    residence: 'DE',
    kyc: 'none',
    programmes: [],
    tier: 'general',
    staff: false,
    label: null,
    accountCreatedAt: null,
    paymentFingerprint: null,
  });
});

test('parseCreate reports every problem with its JSON path', () => {
  const issues = issuesOf(() =>
    parseCreate({ accountId: '', nationalities: ['US', 'XX'], residence: 'UK', kyc: 'gold', tier: 'Has Spaces', programmes: ['ok', 'ok'], staff: 'yes', colour: 'red' }),
  );
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(byPath['accountId']!, /must not be empty/);
  assert.match(byPath['nationalities[1]']!, /'XX' is not an officially assigned ISO 3166-1 alpha-2 code/);
  assert.match(byPath['residence']!, /use 'GB'/);
  assert.match(byPath['kyc']!, /expected one of 'none', 'basic', 'verified-identity', 'verified-organisation', got "gold"/);
  assert.match(byPath['tier']!, /lower-case letters/);
  assert.match(byPath['programmes[1]']!, /duplicate programme 'ok'/);
  assert.equal(byPath['staff'], 'expected boolean, got string "yes"');
  assert.equal(byPath['(root)'], "unknown field 'colour'");
  assert.deepEqual(issuesOf(() => parseCreate({})), [{ path: 'accountId', message: 'is required' }]);
  assert.deepEqual(issuesOf(() => parseCreate([1])), [{ path: '(root)', message: 'expected object, got an array' }]);
});

test('parseUpdate accepts a subset, null clears, and an empty patch is refused', () => {
  assert.deepEqual(parseUpdate({ residence: null, kyc: 'verified-identity' }), { residence: null, kyc: 'verified-identity' });
  assert.deepEqual(issuesOf(() => parseUpdate({})), [{ path: '(root)', message: 'expected at least one attribute to change' }]);
  assert.equal(issuesOf(() => parseUpdate({ tier: '' }))[0]!.message, 'tier must not be empty');
});
