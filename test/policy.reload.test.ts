import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../src/core/types.ts';
import { configSchema as directivesConfig } from '../src/directives/config.ts';
import { AccessControl } from '../src/policy/access-control.ts';
import { configSchema as policyConfig } from '../src/policy/config.ts';
import { PolicyValidationError } from '../src/core/validation.ts';

const ir: Principal = { keyId: 'k', accountId: 'a', orgId: null, nationalities: ['IR'], residence: null, kyc: 'none', programmes: [], tier: 'general', staff: false };

test('a bad policy on reload is rejected with file:line and the last good policy keeps deciding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-policy-reload-'));
  try {
    writeFileSync(join(dir, 'policy.yaml'), "rules:\n  - {id: embargo, models: ['*'], when: {nationality: {anyOf: ['group:embargoed']}}, action: deny, code: embargoed}\n");
    const config = { policy: policyConfig.parse({ file: 'policy.yaml' }), directives: directivesConfig.parse(undefined) };
    const access = new AccessControl({ db: null, config, models: ['frontier', 'lite'], baseDir: dir });
    await access.start();
    assert.equal(access.decide(ir, 'frontier').action, 'refuse');

    writeFileSync(join(dir, 'policy.yaml'), "rules:\n  - {id: embargo, models: ['*'], when: {nationality: {anyOf: ['group:embargoed']}}, action: deny, cod: embargoed}\n");
    const r = access.reload();
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.error instanceof PolicyValidationError);
    assert.match(String(!r.ok && r.error.message), /policy\.yaml:2:\d+: rules\[0\]\.cod: unknown field 'cod'/);
    const v = access.decide(ir, 'frontier');
    assert.equal(v.action === 'refuse' && v.code, 'embargoed', 'old policy still in force');

    // A model removed from the catalogue makes the policy invalid for the new catalogue: rejected too.
    writeFileSync(join(dir, 'policy.yaml'), "rules:\n  - {id: r, models: [lite], action: deny}\n");
    const r2 = access.reload(config, ['frontier']);
    assert.equal(r2.ok, false);
    assert.match(String(!r2.ok && r2.error.message), /unknown model 'lite'/);
    assert.equal(access.decide(ir, 'frontier').action, 'refuse');

    writeFileSync(join(dir, 'policy.yaml'), 'default: deny\nrules: []\n');
    assert.equal(access.reload().ok, true);
    const v2 = access.decide({ ...ir, nationalities: ['US'] }, 'frontier');
    assert.equal(v2.action === 'refuse' && v2.code, 'policy_default_deny');
    assert.equal(access.readiness.check().ok, true);
    await access.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
