/**
 * Binds the classifier to the request path: an input gate (scores the whole conversation once per request,
 * decides per the principal's tier) and an output moderator for streams. The artefact is loaded once per
 * model path and shared across reloads.
 */
import type { GateInput, RequestGate } from '../core/gates.ts';
import { conversationText } from '../core/canonical.ts';
import { loadClassifier, loadDefaultClassifier, type Classifier } from '../classify/classifier.ts';
import type { ClassifyConfig } from '../classify/config.ts';
import { decideAction } from '../classify/decide.ts';
import { createStreamModerator } from '../classify/stream.ts';
import type { StreamModerator } from './request-path.ts';

const loaded = new Map<string, Classifier>();

function classifierFor(model: string): Classifier {
  let c = loaded.get(model);
  if (!c) {
    c = model === 'default' ? loadDefaultClassifier() : loadClassifier(model);
    loaded.set(model, c);
  }
  return c;
}

const LABELS_MEMO = 'labels';

export function classifierCapability(config: ClassifyConfig): { gate: RequestGate; moderator(input: GateInput): StreamModerator | null } {
  const classifier = classifierFor(config.model);
  const gate: RequestGate = {
    name: 'classifier',
    check(input) {
      let scores = input.memo.get(LABELS_MEMO) as Record<string, number> | undefined;
      if (!scores) {
        scores = classifier.classify(conversationText(input.request)) as Record<string, number>;
        input.memo.set(LABELS_MEMO, scores);
      }
      return decideAction(scores, input.principal.tier, config);
    },
  };
  return {
    gate,
    moderator(input) {
      if (!config.stream.enabled) return null;
      const tier = input.principal.tier;
      return createStreamModerator({
        classify: (text) => classifier.classify({ system: null, turns: [{ role: 'assistant', text }] }),
        decide: (scores) => decideAction(scores, tier, config),
        holdBackChars: config.stream.holdBackChars,
        windowChars: config.stream.windowChars,
      });
    },
  };
}
