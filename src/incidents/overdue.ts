/**
 * Overdue reports: every `intervalMs` the incidents still to be reported (`reportable`) and those still in triage
 * (`open`, `investigating`: their clocks run from awareness) are checked against their regimes' deadlines. The
 * counts go to the gauge `gatehouse_incident_deadlines_overdue{stage="report"|"triage"}`, and each (incident,
 * regime) that becomes overdue is notified once (the gateway logs a warning line naming the incident, regime, rule
 * and how late it is).
 */
import { Gauge, type Registry } from 'prom-client';
import type { Incident } from './model.ts';
import { deadlinesFor, formatTimeLeft, type Deadline, type RegimeSet } from './regimes.ts';
import type { IncidentRepository } from './repository.ts';

export interface OverdueOptions {
  intervalMs?: number;
  now?: () => number;
  /** Called once per (incident, regime) when it becomes overdue. */
  notify: (incident: Incident, deadline: Deadline, stage: 'report' | 'triage') => void;
  onError?: (err: Error) => void;
  registry?: Registry;
}

export class OverdueWatch {
  private timer: NodeJS.Timeout | null = null;
  private readonly notified = new Set<string>();
  private readonly gauge: Gauge<'stage'> | null;

  constructor(
    private readonly repo: IncidentRepository,
    private readonly regimes: RegimeSet,
    private readonly opts: OverdueOptions,
  ) {
    this.gauge = opts.registry ? new Gauge({ name: 'gatehouse_incident_deadlines_overdue', help: 'Reporting deadlines passed: of incidents still to be reported (stage=report) or still in triage (stage=triage)', labelNames: ['stage'], registers: [opts.registry] }) : null;
  }

  start(): void {
    const tick = () => void this.check().catch((err: Error) => this.opts.onError?.(err));
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One check; returns the overdue counts. */
  async check(): Promise<{ report: number; triage: number }> {
    const now = (this.opts.now ?? Date.now)();
    const counts = { report: 0, triage: 0 };
    for (const state of ['reportable', 'open', 'investigating'] as const) {
      const stage = state === 'reportable' ? 'report' : 'triage';
      for (const inc of await this.repo.list({ state, limit: 10_000 })) {
        for (const d of deadlinesFor(inc, this.regimes, now)) {
          if (d.timeLeftMs >= 0 || d.status === 'met' || d.status === 'late') continue;
          counts[stage]++;
          const key = `${inc.id}:${d.regime}:${stage}`;
          if (!this.notified.has(key)) {
            this.notified.add(key);
            this.opts.notify(inc, d, stage);
          }
        }
      }
    }
    this.gauge?.set({ stage: 'report' }, counts.report);
    this.gauge?.set({ stage: 'triage' }, counts.triage);
    return counts;
  }
}

export function overdueMessage(inc: Incident, d: Deadline, stage: 'report' | 'triage'): string {
  return `incident ${inc.id} (${inc.title}): ${stage === 'report' ? 'report' : 'triage'} under ${d.regime} (${d.rule}, within ${d.within}) was due ${new Date(d.dueAt).toISOString()}, ${formatTimeLeft(d.timeLeftMs)}`;
}
