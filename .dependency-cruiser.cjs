/**
 * The house rules as dependency-cruiser checks (`npm run lint:deps`, in CI). docs/architecture.md draws them.
 *
 * Floors, lowest first: store/ (imports nothing in src/) → core/ (contracts and shared helpers; store/ only) →
 * population/ (the population language; core/ only) and the plumbing admin/http.ts, admin/auth.ts,
 * cli/common.ts and observability/ → the capabilities (one folder each) → the composition roots server/, cli/
 * and config/ (config/schema.ts assembles every capability's config section).
 *
 * A capability may import the floors below it, never another capability — except the arrows listed in
 * CAPABILITY_EXCEPTIONS, each with its reason. A new arrow fails the check until it is either removed (meet through a
 * contract in core/ or through the composition root) or added there with its reason.
 */
const CAPABILITIES = ['abuse', 'audit', 'classify', 'directives', 'export-control', 'identity', 'incidents', 'limits', 'meter', 'notify', 'ocsf', 'policy', 'protocol', 'providers', 'redteam', 'replay', 'screening'];

/** capability → capabilities it may still import, and why. */
const CAPABILITY_EXCEPTIONS = {
  // By design: policy owns the access decision; directives and licences are its inputs (docs/architecture.md).
  policy: ['directives', 'identity' /* `policy explain --key` reads a key's principal (policy/cli.ts) */],
  // A provider speaks a wire dialect: the protocol's serializers and SSE parser.
  providers: ['protocol'],
  // Reports and bundles read other capabilities' records: the audit log, policy decisions, directives.
  'export-control': ['audit', 'policy', 'replay'],
  incidents: ['audit', 'directives', 'policy'],
  ocsf: ['audit'],
  screening: ['incidents' /* a confirmed hit opens an incident */],
  // Replay re-runs recorded traffic through the real decision code of each gate, so it imports them.
  replay: ['audit', 'classify', 'directives', 'identity', 'limits', 'policy'],
  // The red-team harness can aim at the in-process classifier gate as its target.
  redteam: ['classify'],
};

/**
 * Known cycles, allowed until removed: classify's offline training data generator and its templates import each
 * other (training code, not the hot path). Any other cycle fails.
 */
const CYCLE_EXCEPTIONS = ['^src/classify/(dataset|templates)\\.(ts|js)$'];

const others = (cap) => CAPABILITIES.filter((c) => c !== cap && !(CAPABILITY_EXCEPTIONS[cap] ?? []).includes(c));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles anywhere in src/.', from: { path: '^src/', pathNot: CYCLE_EXCEPTIONS }, to: { circular: true } },
    { name: 'store-is-ground-floor', severity: 'error', comment: 'store/ knows no capability (migrations are collected by server/migrations.ts).', from: { path: '^src/store/' }, to: { path: '^src/', pathNot: '^src/store/' } },
    { name: 'core-imports-only-store', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/', pathNot: '^src/(core|store)/' } },
    { name: 'population-is-a-floor', severity: 'error', from: { path: '^src/population/' }, to: { path: '^src/', pathNot: '^src/(population|core)/' } },
    { name: 'admin-plumbing-is-a-floor', severity: 'error', from: { path: '^src/admin/' }, to: { path: '^src/', pathNot: '^src/(admin|core)/' } },
    { name: 'observability-is-a-floor', severity: 'error', from: { path: '^src/observability/' }, to: { path: '^src/', pathNot: '^src/(observability|core)/' } },
    {
      name: 'cli-plumbing-is-a-floor',
      severity: 'error',
      comment: 'cli/common.ts opens the store with the full migration list from the composition root, and knows no capability.',
      from: { path: '^src/cli/common\\.(ts|js)$' },
      to: { path: '^src/', pathNot: '^src/(core|store)/|^src/server/migrations\\.(ts|js)$' },
    },
    {
      name: 'capabilities-do-not-import-the-roots',
      severity: 'error',
      comment: 'Capabilities reach server/ and cli/ only for cli/common.ts; a CLI entry point may take the full migration list.',
      from: { path: `^src/(${CAPABILITIES.join('|')})/` },
      to: { path: '^src/(server|cli)/', pathNot: '^src/cli/common\\.(ts|js)$|^src/server/migrations\\.(ts|js)$' },
    },
    {
      name: 'only-clis-take-the-migration-list',
      severity: 'error',
      from: { path: `^src/(${CAPABILITIES.join('|')})/`, pathNot: '(^|/|-)cli\\.(ts|js)$' },
      to: { path: '^src/server/migrations\\.(ts|js)$' },
    },
    ...CAPABILITIES.map((cap) => ({
      name: `no-capability-to-capability:${cap}`,
      severity: 'error',
      comment: `${cap}/ may not import another capability (allowed exceptions: ${(CAPABILITY_EXCEPTIONS[cap] ?? []).join(', ') || 'none'}); meet through core/ or server/compose.ts.`,
      from: { path: `^src/${cap}/` },
      to: { path: `^src/(${others(cap).join('|')})/` },
    })),
    {
      name: 'config-only-reads-sections',
      severity: 'error',
      comment: 'redteam reads the gateway config file; nothing else below the roots imports config/.',
      from: { path: `^src/(${CAPABILITIES.filter((c) => c !== 'redteam').join('|')}|core|store|population|admin|observability)/` },
      to: { path: '^src/config/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    moduleSystems: ['es6'],
  },
};
