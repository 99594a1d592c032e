/**
 * Threshold calibration: from scored, labelled examples and a target FPR per label, choose thresholds, and write them
 * into a config YAML without losing its comments or layout (yaml's Document API edits the tree in place).
 */
import { parseDocument, isMap } from 'yaml';
import type { Classifier } from './classifier.ts';
import { DEFAULT_TIERS } from './config.ts';
import type { Example } from './training/example.ts';
import { JAILBREAK, type Label, type Scores, isLabel, RETIRED_LABELS } from './labels.ts';
import { chooseThreshold, type Rates } from './metrics.ts';
import { singleTurn } from './pipeline.ts';

export function scoreAll(c: Classifier, examples: readonly Example[]): Scores[] {
  return examples.map((e) => c.classify(singleTurn(e.text)));
}

/** Positive and negative score lists for one label. Examples with no topic only count for the jailbreak head. */
export function split(label: Label, examples: readonly Example[], scores: readonly Scores[]): { pos: number[]; neg: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  examples.forEach((e, i) => {
    const s = scores[i][label];
    if (label === JAILBREAK) (e.jailbreak ? pos : neg).push(s);
    else if (e.topic !== null) (e.topic === label ? pos : neg).push(s);
  });
  return { pos, neg };
}

export function parseTargets(spec: string): Map<Label, number> {
  const out = new Map<Label, number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)=([0-9.]+)$/.exec(part);
    if (!m) throw new Error(`--target-fpr: cannot parse '${part}' (expected label=rate, e.g. security-offensive=0.01)`);
    const label = m[1] as Label;
    const rate = Number(m[2]);
    if (!isLabel(label)) throw new Error(`--target-fpr: ${RETIRED_LABELS[m[1]] ?? `unknown label '${m[1]}'`}`);
    if (!(rate >= 0 && rate <= 1)) throw new Error(`--target-fpr: rate for ${label} must be in [0,1], got ${m[2]}`);
    out.set(label, rate);
  }
  if (out.size === 0) throw new Error('--target-fpr: no label=rate pairs given');
  return out;
}

export interface Calibration {
  label: Label;
  targetFpr: number;
  threshold: number;
  rates: Rates;
  positives: number;
  negatives: number;
}

export function calibrate(examples: readonly Example[], scores: readonly Scores[], targets: Map<Label, number>): Calibration[] {
  const out: Calibration[] = [];
  for (const [label, targetFpr] of targets) {
    const { pos, neg } = split(label, examples, scores);
    if (neg.length === 0) throw new Error(`calibrate: no negatives for ${label} in the dev set`);
    const { threshold, ...r } = chooseThreshold(pos, neg, targetFpr);
    out.push({ label, targetFpr, threshold, rates: r, positives: pos.length, negatives: neg.length });
  }
  return out;
}

/**
 * Writes thresholds into `classify.tiers.<tier>.<label>.threshold` of the YAML text. Tiers: those given, else every
 * tier in the file that has a rule for the label. A tier missing from the file is created from the built-in
 * defaults (action included) so the result always validates.
 */
export function writeThresholds(yamlText: string, cals: readonly Calibration[], tiers?: readonly string[]): string {
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0) throw new Error(`config YAML: ${doc.errors[0].message}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  const tiersNode = doc.getIn(['classify', 'tiers']);
  const present = isMap(tiersNode) ? tiersNode.items.map((p) => String((p.key as { value?: unknown })?.value ?? p.key)) : [];
  for (const cal of cals) {
    const targetTiers = tiers ?? (present.length > 0 ? present : Object.keys(DEFAULT_TIERS));
    for (const tier of targetTiers) {
      const path = ['classify', 'tiers', tier, cal.label];
      const existing = doc.getIn(path);
      if (existing === undefined) {
        const dflt = DEFAULT_TIERS[tier]?.[cal.label];
        if (!dflt) {
          if (tiers) throw new Error(`tier '${tier}' has no rule for ${cal.label} in the config or the defaults; add its action first`);
          continue;
        }
        doc.setIn(path, doc.createNode({ action: dflt.action, threshold: cal.threshold }));
      } else doc.setIn([...path, 'threshold'], cal.threshold);
    }
  }
  return doc.toString();
}
