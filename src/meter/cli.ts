/**
 * `gatehouse usage [--from D] [--to D] [--account A] [--org O] [--key K] [--model M] [--group-by day|model|account|org|key[,…]] [--csv]
 *                  [--store URL] [--config FILE]`
 */
import { parseArgs } from 'node:util';
import { openDb, resolveStoreUrl } from '../store/open.ts';
import { migrate } from '../store/migrate.ts';
import { migrations } from './migrations.ts';
import { parseDay, parseGroupBy, queryUsage, usageCsv, type UsageFilter, type UsageRow } from './query.ts';

const USAGE = 'usage: gatehouse usage [--from D] [--to D] [--account A] [--org O] [--key K] [--model M] [--group-by day|model|account|org|key[,…]] [--csv] [--store URL] [--config FILE]\n';

function table(rows: UsageRow[], groups: string[]): string {
  const head = [...groups, 'requests', 'refused', 'estimated', 'input_tokens', 'output_tokens', 'cost_usd'];
  const body = rows.map((r) => {
    const rec = r as unknown as Record<string, unknown>;
    return [...groups.map((g) => String(rec[g] ?? '') || '-'), String(r.requests), String(r.refused), String(r.estimated), String(r.inputTokens), String(r.outputTokens), r.costUsd.toFixed(6)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < groups.length ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n') + '\n';
}

/** `--help` / `-h` text (main.ts prints it). */
export function help(): string {
  return USAGE;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv.slice(1),
      options: {
        from: { type: 'string' }, to: { type: 'string' }, account: { type: 'string' }, org: { type: 'string' }, key: { type: 'string' },
        model: { type: 'string' }, 'group-by': { type: 'string' }, csv: { type: 'boolean' }, store: { type: 'string' }, config: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`gatehouse usage: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const f: UsageFilter = {};
  try {
    if (typeof values.from === 'string') f.from = parseDay(values.from, '--from');
    if (typeof values.to === 'string') f.to = parseDay(values.to, '--to');
    if (typeof values['group-by'] === 'string') f.groupBy = parseGroupBy(values['group-by'], '--group-by');
  } catch (e) {
    process.stderr.write(`gatehouse usage: ${(e as Error).message}\n`);
    return 2;
  }
  for (const k of ['account', 'org', 'key', 'model'] as const) if (typeof values[k] === 'string') f[k] = values[k] as string;
  const url = resolveStoreUrl({ flag: values.store as string | undefined, configPath: values.config as string | undefined });
  const db = await openDb(url);
  try {
    await migrate(db, migrations);
    const rows = await queryUsage(db, f);
    const groups = f.groupBy ?? [];
    process.stdout.write(values.csv ? usageCsv(rows, groups) : table(rows, groups));
    return 0;
  } finally {
    await db.close();
  }
}
