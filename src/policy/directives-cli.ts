/**
 * `gatehouse directives issue|list|show|lift|amend` — emergency directives in the store.
 * Every change needs --by and --why (recorded in directives_history). Exit: 0 ok, 1 failure, 2 invalid input.
 */
import { cliActor } from '../core/admin-actions.ts';
import { AccessControl } from './access-control.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, iso, list, parseFlags, parseStructured, runSubcommand, UsageError, type Values, withStore } from '../cli/common.ts';
import { readCapabilityConfig } from './cli-config.ts';
import { parseTimeFlag } from '../population/time.ts';
import { directiveState, type DirectiveRecord } from '../directives/model.ts';
import { DirectiveNotFoundError, DirectiveStateError } from '../directives/repository.ts';

const USAGE = `usage: gatehouse directives <issue|list|show|lift|amend> [options]

  directives issue --models a,b --effect suspend|require-licence|route:MODEL --authority TEXT --reference TEXT
                   [--population '<JSON or YAML predicate>'] [--effective-at now|ISO] [--expires-at ISO]
                   [--id ID] --by WHO --why TEXT
  directives list  [--status active|lifted] [--json]
  directives show  ID [--json]            (with its history)
  directives lift  ID --by WHO --why TEXT
  directives amend ID [--models a,b] [--population P] [--effect E] [--effective-at T] [--expires-at T|none]
                   [--authority TEXT] [--reference TEXT] --by WHO --why TEXT

population example: '{nationality: {noneOf: [US]}, org: {notIn: [grid-defenders-1]}}'
common options: --store URL, --config FILE (reads store.url, policy groups and the model catalogue), --json
`;

const CHANGE = {
  ...COMMON_OPTIONS,
  models: { type: 'string' },
  population: { type: 'string' },
  effect: { type: 'string' },
  'effective-at': { type: 'string' },
  'expires-at': { type: 'string' },
  authority: { type: 'string' },
  reference: { type: 'string' },
  id: { type: 'string' },
  by: { type: 'string' },
  why: { type: 'string' },
} as const;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('directives', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, sub === 'list' || sub === 'show' ? { ...COMMON_OPTIONS, status: { type: 'string' } } : CHANGE);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const needsId = sub === 'show' || sub === 'lift' || sub === 'amend';
    if (needsId && positionals.length !== 1) throw new UsageError(`expected one directive ID, got ${positionals.length}`);
    if (!needsId && positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const cfg = readCapabilityConfig(values.config as string | undefined);
    return withStore(values, io, async (db) => {
      const access = new AccessControl({ db, config: { policy: cfg.policy, directives: cfg.directives }, models: cfg.models, baseDir: cfg.baseDir, auditActor: cliActor() });
      // Policy routes and groups are used to validate directives (route cycles, group names).
      const loaded = access.reload();
      if (!loaded.ok) io.err(`warning: policy not loaded, directives are validated without its routes and groups: ${loaded.error.message}\n`);
      const repo = access.directivesRepo!;
      try {
        switch (sub) {
          case 'issue': {
            const d = await repo.issue(changeBody(values, true));
            return print(io, values, d, `issued directive ${d.id} (${directiveState(d, Date.now())})`);
          }
          case 'amend': {
            const d = await repo.amend(positionals[0]!, changeBody(values, false));
            return print(io, values, d, `amended directive ${d.id}`);
          }
          case 'lift': {
            const d = await repo.lift(positionals[0]!, { by: values.by, why: values.why });
            return print(io, values, d, `lifted directive ${d.id}`);
          }
          case 'list': {
            const status = values.status as string | undefined;
            if (status !== undefined && status !== 'active' && status !== 'lifted') throw new UsageError(`--status: expected active or lifted, got '${status}'`);
            const all = await repo.list(status ? { status } : {});
            if (values.json) io.out(JSON.stringify(all, null, 2) + '\n');
            else for (const d of all) io.out(line(d));
            return 0;
          }
          case 'show': {
            const d = await repo.get(positionals[0]!);
            if (!d) throw new DirectiveNotFoundError(positionals[0]!);
            const history = await repo.historyOf(d.id);
            if (values.json) io.out(JSON.stringify({ directive: d, history }, null, 2) + '\n');
            else {
              io.out(line(d));
              io.out(`  population: ${JSON.stringify(d.population)}\n  authority: ${d.authority}\n  reference: ${d.reference}\n  history:\n`);
              for (const h of history) io.out(`    ${iso(h.at)} ${h.action} by ${h.by}: ${h.why}\n`);
            }
            return 0;
          }
          default:
            throw new UsageError(`unknown subcommand '${sub}'`);
        }
      } catch (err) {
        if (err instanceof DirectiveNotFoundError || err instanceof DirectiveStateError) throw new CommandError(err.message);
        throw err;
      }
    });
  });
}

function changeBody(values: Values, issuing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const models = list(values.models);
  if (models) body.models = models;
  if (values.population !== undefined) body.population = parseStructured(values.population as string, '--population');
  if (values.effect !== undefined) body.effect = values.effect;
  if (values['effective-at'] !== undefined) body.effectiveAt = parseTimeFlag(values['effective-at'] as string, '--effective-at');
  if (values['expires-at'] !== undefined) body.expiresAt = values['expires-at'] === 'none' ? null : parseTimeFlag(values['expires-at'] as string, '--expires-at');
  if (values.authority !== undefined) body.authority = values.authority;
  if (values.reference !== undefined) body.reference = values.reference;
  if (issuing && values.id !== undefined) body.id = values.id;
  body.by = values.by;
  body.why = values.why;
  return body;
}

function line(d: DirectiveRecord): string {
  return `${d.id}  ${directiveState(d, Date.now()).padEnd(9)}  ${d.effect.padEnd(15)}  models=${d.models.join(',')}  from ${iso(d.effectiveAt)} until ${iso(d.expiresAt)}  ${d.authority}: ${d.reference}\n`;
}

function print(io: Io, values: Values, d: DirectiveRecord, text: string): number {
  io.out(values.json ? JSON.stringify(d, null, 2) + '\n' : text + '\n');
  return 0;
}
