/**
 * Cascade: the embedded model scores every request; only uncertain cases (a label's score inside a stage's band) are
 * escalated to stronger, slower stages (an in-process ONNX model, an external guard model). A stage's scores replace
 * the embedded ones for the labels it covers. A stage that errors or times out sets its labels to NaN, so that
 * decideAction applies each label's fail mode (closed for refuse/require by default) instead of skipping the check.
 */
import type { ConversationText } from '../core/canonical.ts';
import type { Label, Scores } from './labels.ts';

export interface Stage {
  readonly name: string;
  /** Scores for the labels this stage knows; rejects on failure. Must honour `signal` (timeout). */
  score(conv: ConversationText, signal: AbortSignal): Promise<Partial<Record<Label, number>>>;
}

export interface CascadeStep {
  stage: Stage;
  /** Labels this stage decides when it runs. */
  labels: readonly Label[];
  /** Escalate when any covered label's current score is within [lo, hi]. */
  band: readonly [number, number];
  timeoutMs: number;
}

export interface CascadeResult {
  scores: Scores;
  /** Stages that ran, in order. */
  escalated: string[];
  /** `stage: message` for stages that failed (their labels are NaN in `scores`). */
  errors: string[];
}

export function shouldEscalate(scores: Scores, step: CascadeStep): boolean {
  const [lo, hi] = step.band;
  return step.labels.some((l) => scores[l] >= lo && scores[l] <= hi);
}

export async function runCascade(conv: ConversationText, base: (c: ConversationText) => Scores, steps: readonly CascadeStep[]): Promise<CascadeResult> {
  const scores = { ...base(conv) };
  const escalated: string[] = [];
  const errors: string[] = [];
  for (const step of steps) {
    if (!shouldEscalate(scores, step)) continue;
    escalated.push(step.stage.name);
    const signal = AbortSignal.timeout(step.timeoutMs);
    try {
      const got = await Promise.race([
        step.stage.score(conv, signal),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`timed out after ${step.timeoutMs} ms`)), { once: true })),
      ]);
      for (const l of step.labels) {
        const v = got[l];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`returned no valid score for ${l}`);
      }
      for (const l of step.labels) scores[l] = got[l] as number;
    } catch (e) {
      errors.push(`${step.stage.name}: ${(e as Error).message}`);
      for (const l of step.labels) scores[l] = Number.NaN;
    }
  }
  return { scores, escalated, errors };
}
