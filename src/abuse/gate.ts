/**
 * Actions by policy. After each analysis the gate maps every ring member to an action by the ring score
 * (flag | require-kyc | degrade | suspend), capped for weakly linked members and for KYC-verified accounts,
 * precomputes the Verdict per account, and emits one audit record per change. `check()` on the hot path is
 * one Map lookup.
 */
import type { Principal, Verdict } from '../core/types.ts';
import type { Analysis } from './cluster.ts';
import type { AbuseConfig } from './config.ts';
import { ACTION_ORDER, type AbuseActionKind, type AbuseActionRecord } from './types.ts';

export interface AccountAction {
  action: AbuseActionKind;
  ringId: string;
  score: number;
  reasons: string[];
}

const ALLOW: Verdict = Object.freeze({ action: 'allow' }) as Verdict;

export function actionForScore(score: number, t: AbuseConfig['thresholds']): AbuseActionKind {
  if (score >= t.suspend) return 'suspend';
  if (score >= t.degrade) return 'degrade';
  if (score >= t.requireKyc) return 'require-kyc';
  if (score >= t.flag) return 'flag';
  return 'none';
}

const rank = (a: AbuseActionKind) => ACTION_ORDER.indexOf(a);

/** Pure: the action for each ring member under the policy. */
export function decideActions(analysis: Analysis, cfg: AbuseConfig): Map<string, AccountAction> {
  const out = new Map<string, AccountAction>();
  for (const [accountId, m] of analysis.members) {
    let action = actionForScore(m.ringScore, cfg.thresholds);
    const reasons = [`ring ${m.ringId} score ${m.ringScore.toFixed(3)} → ${action}`];
    if (!m.strong && rank(action) > rank(cfg.weakLinkMaxAction)) {
      action = cfg.weakLinkMaxAction;
      reasons.push(`weakly linked (no shared template, one infrastructure link): capped at ${action}`);
    }
    // KYC and organisation membership lower the prior (in the ring score) but never cap strong evidence.
    if (m.kyc?.startsWith('verified') && rank(action) > rank(cfg.verifiedMaxAction)) {
      if (m.ringScore >= cfg.verifiedOverrideScore) reasons.push(`account KYC ${m.kyc}, but ring evidence is strong (score ≥ ${cfg.verifiedOverrideScore}): not capped`);
      else {
        action = cfg.verifiedMaxAction;
        reasons.push(`account KYC ${m.kyc}: capped at ${action} for human review`);
      }
    }
    // A verified organisation behaving like a harvesting ring goes to review even when its prior kept it below flag.
    if (m.review && action === 'none' && m.ringScore >= cfg.thresholds.flag * cfg.explainedOrgDamping) {
      action = 'flag';
      reasons.push('one verified organisation behaving like a harvesting ring: escalated to human review');
    }
    if (action !== 'none') out.set(accountId, { action, ringId: m.ringId, score: m.ringScore, reasons });
  }
  return out;
}

/** A reviewer's decision on a ring, as the gate applies it: every member listed gets `action` ('none': served normally). */
export interface ReviewOverride {
  ringId: string;
  action: AbuseActionKind;
  members: readonly string[];
  reason: string;
}

/** Pure: the detector's actions with reviewers' decisions in force over them (a decision holds for the members it named). */
export function applyReviews(actions: ReadonlyMap<string, AccountAction>, reviews: readonly ReviewOverride[]): Map<string, AccountAction> {
  const out = new Map(actions);
  for (const r of reviews) {
    for (const id of r.members) {
      const score = actions.get(id)?.score ?? 0;
      if (r.action === 'none') out.delete(id);
      else out.set(id, { action: r.action, ringId: r.ringId, score, reasons: [r.reason] });
    }
  }
  return out;
}

export class AbuseGate {
  private actions = new Map<string, AccountAction>();
  /** The detector's (or fleet's) actions before reviews, so a new review can be applied over them again. */
  private detected = new Map<string, AccountAction>();
  private reviews: ReviewOverride[] = [];
  private verdicts = new Map<string, Verdict>();

  constructor(
    private readonly cfg: AbuseConfig,
    private readonly onAction: (rec: AbuseActionRecord) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Hot path: O(1). A require-kyc verdict lifts itself once the principal is verified. */
  check(principal: Pick<Principal, 'accountId'> & Partial<Pick<Principal, 'kyc'>>): Verdict {
    const v = this.verdicts.get(principal.accountId);
    if (v === undefined) return ALLOW;
    if (v.action === 'refuse' && v.code === 'abuse_kyc_required' && principal.kyc?.startsWith('verified')) return ALLOW;
    return v;
  }

  actionOf(accountId: string): AccountAction | undefined {
    return this.actions.get(accountId);
  }

  all(): ReadonlyMap<string, AccountAction> {
    return this.actions;
  }

  /** Installs the actions of a new analysis; returns (and emits) the audit records of every change. */
  apply(analysis: Analysis, emit = true): AbuseActionRecord[] {
    return this.install(decideActions(analysis, this.cfg), emit);
  }

  /** `emit=false` re-installs state after a restart without re-announcing actions already in the audit log. */
  install(detected: Map<string, AccountAction>, emit = true): AbuseActionRecord[] {
    this.detected = detected;
    const next = this.reviews.length ? applyReviews(detected, this.reviews) : detected;
    const records: AbuseActionRecord[] = [];
    const time = this.now();
    for (const [id, a] of next) {
      const prev = this.actions.get(id)?.action ?? 'none';
      if (prev !== a.action) records.push({ kind: 'admin', action: 'abuse.action', time, accountId: id, ringId: a.ringId, previous: prev, next: a.action, score: a.score, reasons: a.reasons });
    }
    for (const [id, a] of this.actions) {
      if (next.has(id)) continue;
      const dismissed = [...this.reviews].reverse().find((r) => r.action === 'none' && r.members.includes(id));
      records.push({ kind: 'admin', action: 'abuse.action', time, accountId: id, ringId: dismissed?.ringId ?? null, previous: a.action, next: 'none', score: 0, reasons: [dismissed ? dismissed.reason : 'no longer in a ring above the flag threshold'] });
    }
    const verdicts = new Map<string, Verdict>();
    for (const [id, a] of next) {
      const v = this.verdictFor(a);
      if (v) verdicts.set(id, v);
    }
    // One pointer swap each: check() never sees a half-built map.
    this.actions = next;
    this.verdicts = verdicts;
    if (emit) for (const r of records) this.onAction(r);
    return records;
  }

  /** Installs reviewers' decisions (all of them, oldest first) over the detected actions; returns the changes. */
  setReviews(reviews: ReviewOverride[], emit = true): AbuseActionRecord[] {
    this.reviews = reviews;
    return this.install(this.detected, emit);
  }

  private verdictFor(a: AccountAction): Verdict | null {
    const ref = { ring: a.ringId };
    switch (a.action) {
      case 'none':
      case 'flag':
        return null; // flagged accounts are served normally; the flag lives in the audit log and the rings report
      case 'require-kyc':
        return Object.freeze({
          action: 'refuse',
          status: 403,
          code: 'abuse_kyc_required',
          message: `Identity verification is required before this account can continue. Verify at ${this.cfg.kycUrl}.`,
          requires: ['kyc:verified-identity'],
          ref,
          reasons: a.reasons,
        }) as Verdict;
      case 'degrade':
        return Object.freeze({ action: 'route', model: this.cfg.degradedModel, code: 'abuse_degraded', ref, reasons: a.reasons }) as Verdict;
      case 'suspend':
        return Object.freeze({
          action: 'refuse',
          status: 403,
          code: 'abuse_suspended',
          message: 'This account is suspended pending an abuse review. Contact support to appeal.',
          ref,
          reasons: a.reasons,
        }) as Verdict;
    }
  }
}
