/**
 * Wires outbound notifications (notify/) to what they announce. The notifier itself knows no capability; this
 * module turns each source into a `NotificationEvent`:
 *   - directives issued / amended / lifted, and incidents opened: read from the store's history when the change
 *     feed names their topic (any replica, the admin API, the console or the CLI made them), announced once
 *     cluster-wide (the dedupe key names the change);
 *   - approvals waiting (two-person control), rings at or above `ringLevel`, overdue incident reports, audit-log
 *     problems and the store becoming unreachable: handed over by the composition root as they happen.
 */
import type { NotificationEvent, NotificationSeverity, Notify } from '../core/notify.ts';
import type { DirectiveRepository, HistoryEntry } from '../directives/repository.ts';
import type { Incident } from '../incidents/model.ts';
import type { Deadline } from '../incidents/regimes.ts';
import type { IncidentRepository } from '../incidents/repository.ts';
import { RING_LEVELS, type NotificationsConfig } from '../notify/config.ts';
import type { Claims } from '../notify/claims.ts';
import { Notifier, type NotifyLog } from '../notify/notifier.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import type { Registry } from 'prom-client';

/** Changes older than this before the last scan are looked at again (a transaction that committed late). */
const LOOKBACK_MS = 60_000;

export function directiveEvent(h: HistoryEntry): NotificationEvent {
  const d = h.after;
  const verb = h.action === 'issue' ? 'issued' : h.action === 'amend' ? 'amended' : 'lifted';
  return {
    type: `directive.${verb}`,
    time: h.at,
    severity: h.action === 'lift' ? 'info' : 'warning',
    summary: `Directive ${d.id} ${verb} by ${h.by}: ${d.effect} on ${d.models.join(', ')} (${d.authority}, ${d.reference})`,
    details: { directive: d.id, action: h.action, by: h.by, why: h.why, effect: d.effect, models: d.models, authority: d.authority, reference: d.reference, effectiveAt: new Date(d.effectiveAt).toISOString(), expiresAt: d.expiresAt === null ? null : new Date(d.expiresAt).toISOString(), population: d.population },
    dedupeKey: `directive:${h.id}`,
  };
}

const INCIDENT_SEVERITY: Record<Incident['severity'], NotificationSeverity> = { low: 'info', medium: 'warning', high: 'warning', critical: 'critical' };

export function incidentOpenedEvent(i: Incident): NotificationEvent {
  return {
    type: 'incident.opened',
    time: i.openedAt,
    severity: INCIDENT_SEVERITY[i.severity],
    summary: `Incident ${i.id} opened (${i.severity}): ${i.title}`,
    details: { incident: i.id, title: i.title, severity: i.severity, trigger: i.trigger, openedBy: i.openedBy, models: i.models, principals: i.principals.slice(0, 20), rings: i.rings, directives: i.directives },
    dedupeKey: `incident:${i.id}:opened`,
  };
}

export function overdueEvent(i: Incident, d: Deadline, stage: 'report' | 'triage', message: string, now: number): NotificationEvent {
  return {
    type: 'incident.overdue',
    time: now,
    severity: 'critical',
    summary: message,
    details: { incident: i.id, title: i.title, stage, regime: d.regime, rule: d.rule, within: d.within, dueAt: new Date(d.dueAt).toISOString(), overdueMs: -d.timeLeftMs },
    dedupeKey: `overdue:${i.id}:${d.regime}:${stage}`,
  };
}

/** An abuse action at or above `level` for an account of a ring → `ring.detected`, once per (ring, action). */
export function ringEvent(a: { accountId: string; ringId: string | null; previous: string; next: string; score: number; reasons: string[]; time?: number }, level: NotificationsConfig['ringLevel'], now: number): NotificationEvent | null {
  const at = (RING_LEVELS as readonly string[]).indexOf(a.next);
  if (a.ringId === null || at < 0 || at < RING_LEVELS.indexOf(level)) return null;
  return {
    type: 'ring.detected',
    time: a.time ?? now,
    severity: a.next === 'suspend' ? 'critical' : 'warning',
    summary: `Ring ${a.ringId} reached ${a.next} (account ${a.accountId}, score ${a.score.toFixed(2)})`,
    details: { ring: a.ringId, account: a.accountId, previous: a.previous, action: a.next, score: a.score, reasons: a.reasons.slice(0, 5) },
    dedupeKey: `ring:${a.ringId}:${a.next}`,
  };
}

export function approvalEvent(id: string, by: string, details: Record<string, unknown> | undefined, now: number): NotificationEvent {
  const models = Array.isArray(details?.models) ? (details.models as unknown[]).map(String) : [];
  const what = [details?.kind, details?.effect, models.length ? `on ${models.join(', ')}` : ''].filter(Boolean).join(' ');
  return {
    type: 'approval.waiting',
    time: now,
    severity: 'warning',
    summary: `Approval ${id} waits for a second operator: ${what || 'a change'} requested by ${by}`,
    details: { approval: id, requestedBy: by, ...(details ?? {}) },
    dedupeKey: `approval:${id}`,
  };
}

export interface NotificationsDeps {
  config: NotificationsConfig;
  env: NodeJS.ProcessEnv;
  source: string;
  claims: Claims;
  registry: Registry;
  log: NotifyLog;
  watcher: ChangeWatcher;
  directives: () => DirectiveRepository | null;
  incidents: IncidentRepository;
  now?: () => number;
}

export interface Notifications {
  notifier: Notifier;
  notify: Notify;
  /** Scans directive history and incidents once (also run on every change of their topics). */
  scan(): Promise<void>;
  close(): Promise<void>;
}

export function startNotifications(deps: NotificationsDeps): Notifications {
  const now = deps.now ?? Date.now;
  const secrets: Record<string, string | undefined> = {};
  for (const w of deps.config.webhooks) if (w.secretEnv) secrets[w.name] = deps.env[w.secretEnv];
  const notifier = new Notifier({ config: deps.config, secrets, source: deps.source, claims: deps.claims, registry: deps.registry, log: deps.log, now });
  const notify: Notify = (e) => notifier.publish(e);
  if (!notifier.enabled) return { notifier, notify, scan: async () => {}, close: () => notifier.close() };

  // Only changes made after this process started are announced by it.
  const cursor = { directives: now(), incidents: now() };
  let running: Promise<void> | null = null;
  let again = false;
  const scanDirectives = async () => {
    const repo = deps.directives();
    if (!repo) return;
    for (const h of await repo.historySince(cursor.directives - LOOKBACK_MS)) {
      cursor.directives = Math.max(cursor.directives, h.at);
      notify(directiveEvent(h));
    }
  };
  const scanIncidents = async () => {
    for (const i of await deps.incidents.openedSince(cursor.incidents - LOOKBACK_MS)) {
      cursor.incidents = Math.max(cursor.incidents, i.openedAt);
      notify(incidentOpenedEvent(i));
    }
  };
  const scan = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await scanDirectives();
          await scanIncidents();
        } catch (err) {
          deps.log('warn', { err: (err as Error).message }, 'notification feed scan failed');
        }
      } while (again);
    })().finally(() => (running = null));
    return running;
  };
  const off = deps.watcher.on((topic) => (topic === 'directives' || topic === 'incidents' ? void scan() : undefined));
  return {
    notifier,
    notify,
    scan,
    close: async () => {
      off();
      await running;
      await notifier.close();
    },
  };
}
