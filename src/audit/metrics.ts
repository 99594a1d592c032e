import { Counter, type Registry } from 'prom-client';
import type { AuditLog } from './log.ts';

/**
 * Group-commit counters, read from the log when scraped (nothing on the request path): durable writes (each an
 * O_DSYNC write, or write + fdatasync) and the records they carried. Records per write is the batching achieved.
 */
export function registerAuditMetrics(registry: Registry, log: AuditLog): void {
  const counter = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  counter('gatehouse_audit_writes_total', 'Durable audit-log writes (one per group-committed batch)', () => log.stats.fsyncs);
  counter('gatehouse_audit_records_total', 'Audit records made durable', () => log.stats.records);
}
