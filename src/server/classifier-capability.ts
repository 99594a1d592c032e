/**
 * Binds the classify/ gate (model, cascade, shadow) to the request path: the input check runs once per request
 * (its scores are memoised so a re-check after a route reuses them) and the output moderator wraps streams.
 */
import { conversationText } from '../core/canonical.ts';
import type { GateInput, RequestGate } from '../core/gates.ts';
import type { Verdict } from '../core/types.ts';
import { createClassifyGate, type ClassifyGate } from '../classify/gate.ts';
import type { StreamModerator } from './request-path.ts';

const LABELS_MEMO = 'labels';
const VERDICT_MEMO = 'classifier.verdict';
/** Cascade stages that failed while the verdict did not refuse for it (their labels fail open). */
const FAILED_OPEN_MEMO = 'classifier.failedOpen';

export interface ClassifierCapability {
  gate: RequestGate;
  moderator(input: GateInput): StreamModerator | null;
  /** Shadow disagreements so far (null when no shadow is configured). */
  shadow: ClassifyGate['shadow'];
}

export async function classifierCapability(section: unknown, env: NodeJS.ProcessEnv, onShadowDisagreement?: (requestId: string, detail: unknown) => void): Promise<ClassifierCapability> {
  const classify = await createClassifyGate(section, env);
  const gate: RequestGate = {
    name: 'classifier',
    async check(input): Promise<Verdict> {
      // The input does not change when the request is routed: classify once, reuse the verdict on re-checks.
      const prior = input.memo.get(VERDICT_MEMO) as Verdict | undefined;
      if (prior) return prior;
      const check = await classify.checkInput(conversationText(input.request), input.principal.tier);
      input.memo.set(LABELS_MEMO, check.scores);
      input.memo.set(VERDICT_MEMO, check.verdict);
      const failedClosed = check.verdict.action === 'refuse' && check.verdict.code === 'classifier_unavailable';
      if (check.errors.length > 0 && !failedClosed) input.memo.set(FAILED_OPEN_MEMO, check.errors.slice(0, 10).map((e) => e.slice(0, 300)));
      if (check.shadow?.disagree && onShadowDisagreement) onShadowDisagreement(input.requestId, check.shadow);
      return check.verdict;
    },
  };
  return { gate, moderator: (input) => classify.outputModerator(input.principal.tier), shadow: classify.shadow };
}
