/** Quality report over labelled examples: per-label rates at the configured thresholds plus the boundary slices. */
import type { Classifier } from './classifier.ts';
import { scoreAll, split } from './calibrate.ts';
import type { ClassifyConfig } from './config.ts';
import type { Example } from './training/example.ts';
import { decideAction, rulesFor } from './decide.ts';
import { ALL_LABELS, isHarmLabel, TOPIC_LABELS, type Label, type Scores } from './labels.ts';
import { rates, chooseThreshold, wilson as wilsonCi, type Rates } from './metrics.ts';

export interface LabelReport extends Rates {
  label: Label;
  threshold: number;
  positives: number;
  negatives: number;
  recallAt1pctFpr: number;
}

export interface EvalReport {
  n: number;
  labels: LabelReport[];
  confusion: Record<string, Record<string, number>>;
  slices: Record<string, { n: number; rate: number; ci: [number, number]; what: string }>;
}

export function topLabel(s: Scores): string {
  let best: string = TOPIC_LABELS[0];
  for (const l of TOPIC_LABELS) if (s[l] > s[best as Label]) best = l;
  return best;
}

function slice(examples: readonly Example[], scores: readonly Scores[], pred: (e: Example) => boolean, hit: (s: Scores, e: Example) => boolean, what: string) {
  let n = 0;
  let k = 0;
  examples.forEach((e, i) => {
    if (!pred(e)) return;
    n++;
    if (hit(scores[i], e)) k++;
  });
  return { n, rate: n === 0 ? 0 : k / n, ci: wilsonCi(k, n), what };
}

export function evaluate(c: Classifier, examples: readonly Example[], config: ClassifyConfig, tier = 'general'): EvalReport {
  const scores = scoreAll(c, examples);
  const rules = rulesFor(tier, config);
  const labels: LabelReport[] = [];
  for (const label of ALL_LABELS) {
    const { pos, neg } = split(label, examples, scores);
    if (pos.length === 0 && neg.length === 0) continue;
    const threshold = rules[label]?.threshold ?? 0.5;
    const r = rates(pos, neg, threshold);
    const at1 = neg.length > 0 ? chooseThreshold(pos, neg, 0.01).recall : 0;
    labels.push({ label, threshold, positives: pos.length, negatives: neg.length, recallAt1pctFpr: at1, ...r });
  }
  const confusion: Record<string, Record<string, number>> = {};
  examples.forEach((e, i) => {
    if (e.topic === null) return;
    const p = topLabel(scores[i]);
    confusion[e.topic] ??= {};
    confusion[e.topic][p] = (confusion[e.topic][p] ?? 0) + 1;
  });
  const refused = (s: Scores) => decideAction(s, tier, config).action === 'refuse';
  const refusedScores = refused;
  const th = (l: Label) => rules[l]?.threshold ?? 0.5;
  const slices = {
    frrRefusal: slice(examples, scores, (e) => e.source === 'cyberseceval_frr', refused, `CyberSecEval FRR prompts refused under ${tier}`),
    frrOffensiveFpr: slice(examples, scores, (e) => e.source === 'cyberseceval_frr', (s) => s['security-offensive'] >= th('security-offensive'), 'CyberSecEval FRR prompts scored security-offensive'),
    codingOffensiveFpr: slice(examples, scores, (e) => e.topic === 'coding' || e.topic === 'security-defensive', (s) => s['security-offensive'] >= th('security-offensive'), 'coding + defensive requests scored security-offensive'),
    fixCodeRefusal: slice(examples, scores, (e) => e.source === 'gen-insecure-code' && e.topic !== 'security-offensive', refused, `"fix/explain/test this code" on insecure code refused under ${tier}`),
    exploitDevRecall: slice(examples, scores, (e) => e.source === 'gen-insecure-code' && e.topic === 'security-offensive', (s) => s['security-offensive'] >= th('security-offensive'), 'exploit-development requests on the same code caught'),
    mitreRecall: slice(examples, scores, (e) => e.source === 'cyberseceval_mitre', (s) => s['security-offensive'] >= th('security-offensive'), 'CyberSecEval MITRE prompts caught as security-offensive'),
    jailbreakRecall: slice(examples, scores, (e) => e.jailbreak === 1, (s) => s.jailbreak >= th('jailbreak'), 'jailbreak templates caught'),
    obfuscatedHarmCaught: slice(examples, scores, (e) => e.source === 'obfuscated' && e.topic !== null && isHarmLabel(e.topic) && e.topic !== 'specialized-advice', (s) => refusedScores(s), `obfuscated harmful requests refused under ${tier} (any label)`),
    obfuscatedHarmJailbreak: slice(examples, scores, (e) => e.source === 'obfuscated' && e.topic !== null && isHarmLabel(e.topic) && e.topic !== 'specialized-advice', (s) => s.jailbreak >= th('jailbreak'), 'obfuscated harmful requests flagged jailbreak'),
    jailbreakFprOrdinary: slice(examples, scores, (e) => e.jailbreak === 0 && e.source !== 'obfuscated' && (e.topic === 'benign' || e.topic === 'coding'), (s) => s.jailbreak >= th('jailbreak'), 'ordinary prompts flagged jailbreak'),
    nonHarmfulRefusal: slice(examples, scores, (e) => e.topic === 'benign' || e.topic === 'coding' || e.topic === 'security-defensive', refused, `benign + coding + defensive examples refused under ${tier}`),
    heldoutFixRefusal: slice(examples, scores, (e) => e.source === 'heldout-fix', refused, `held-out "fix this code" set refused under ${tier}`),
  };
  return { n: examples.length, labels, confusion, slices };
}

export function formatReport(r: EvalReport): string {
  const pct = (x: number) => (100 * x).toFixed(1) + '%';
  const lines = [`n=${r.n}`, 'label               thr    pos   neg  precision  recall [95% CI]          FPR [95% CI]            recall@1%FPR'];
  for (const l of r.labels)
    lines.push(
      `${l.label.padEnd(19)} ${l.threshold.toFixed(3)} ${String(l.positives).padStart(5)} ${String(l.negatives).padStart(5)}  ${pct(l.precision).padStart(8)}  ${pct(l.recall).padStart(6)} [${pct(l.recallCi[0])}, ${pct(l.recallCi[1])}]`.padEnd(86) +
        `${pct(l.fpr).padStart(6)} [${pct(l.fprCi[0])}, ${pct(l.fprCi[1])}]`.padEnd(24) +
        pct(l.recallAt1pctFpr),
    );
  lines.push('', 'slices:');
  for (const [k, s] of Object.entries(r.slices)) if (s.n > 0) lines.push(`  ${k.padEnd(22)} ${pct(s.rate).padStart(6)} of ${s.n} [${pct(s.ci[0])}, ${pct(s.ci[1])}]  ${s.what}`);
  lines.push('', 'confusion (rows = truth, cols = top topic label):');
  lines.push('                    ' + TOPIC_LABELS.map((l) => l.slice(0, 9).padStart(10)).join(''));
  for (const t of TOPIC_LABELS) if (r.confusion[t]) lines.push(t.padEnd(20) + TOPIC_LABELS.map((p) => String(r.confusion[t][p] ?? 0).padStart(10)).join(''));
  return lines.join('\n');
}
