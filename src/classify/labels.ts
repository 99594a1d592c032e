/**
 * The labels. Topic labels are mutually exclusive (softmax head); `jailbreak` is an independent head.
 *
 * The harm labels follow the MLCommons AI-safety hazard taxonomy as used by Llama Guard 3/4 (S1–S14), so that the
 * embedded model, a guard-model cascade stage and the config speak one vocabulary. Where this gateway splits finer
 * than MLCommons it says so: indiscriminate weapons (S9) are split into `bio-chem` and `weapons-explosives`
 * (conventional explosives, firearms, radiological and nuclear), and cyber (S14 / part of S2) is split into
 * `security-offensive` and `security-defensive`. docs/labels.md draws each boundary.
 */
export const TOPIC_LABELS = [
  'benign',
  'coding',
  'security-defensive',
  'security-offensive',
  'bio-chem',
  'weapons-explosives',
  'violent-crimes',
  'non-violent-crimes',
  'sex-crimes',
  'child-exploitation',
  'sexual-content',
  'self-harm',
  'hate',
  'harassment',
  'privacy',
  'elections',
  'specialized-advice',
] as const;
export type TopicLabel = (typeof TOPIC_LABELS)[number];
export const JAILBREAK = 'jailbreak' as const;
export const ALL_LABELS = [...TOPIC_LABELS, JAILBREAK] as const;
export type Label = (typeof ALL_LABELS)[number];
export type Scores = Record<Label, number>;

/** Topic labels that name a harm (every topic label except benign, coding and security-defensive). */
export const HARM_LABELS = [
  'security-offensive',
  'bio-chem',
  'weapons-explosives',
  'violent-crimes',
  'non-violent-crimes',
  'sex-crimes',
  'child-exploitation',
  'sexual-content',
  'self-harm',
  'hate',
  'harassment',
  'privacy',
  'elections',
  'specialized-advice',
] as const satisfies readonly TopicLabel[];
export type HarmLabel = (typeof HARM_LABELS)[number];
const HARM_SET: ReadonlySet<string> = new Set(HARM_LABELS);

export function isLabel(s: string): s is Label {
  return (ALL_LABELS as readonly string[]).includes(s);
}
export function isHarmLabel(s: string): s is HarmLabel {
  return HARM_SET.has(s);
}

/** The highest score among the harm labels (NaN-free scores assumed). */
export function maxHarm(s: Partial<Record<Label, number>>): number {
  let m = 0;
  for (const l of HARM_LABELS) {
    const v = s[l];
    if (typeof v === 'number' && v > m) m = v;
  }
  return m;
}

/**
 * Labels from earlier versions. `other-harm` was one catch-all harm label; it is now split into the MLCommons-aligned
 * categories above. Config that names it is refused at start-up with this message rather than silently ignored.
 */
export const RETIRED_LABELS: Record<string, string> = {
  'other-harm':
    '`other-harm` was replaced by the categories weapons-explosives, violent-crimes, non-violent-crimes, sex-crimes, child-exploitation, sexual-content, self-harm, hate, harassment, privacy, elections and specialized-advice (see docs/labels.md); give a rule for each category you mean',
};

/** Llama Guard 3/4 category codes (MLCommons hazards) → our labels. S9 is split by the embedded model; a guard reply says only S9. */
export const LLAMA_GUARD_CATEGORIES: Record<string, Label> = {
  S1: 'violent-crimes',
  S2: 'non-violent-crimes',
  S3: 'sex-crimes',
  S4: 'child-exploitation',
  S5: 'harassment', // defamation
  S6: 'specialized-advice',
  S7: 'privacy',
  S8: 'non-violent-crimes', // intellectual property
  S9: 'bio-chem', // indiscriminate weapons (CBRNE); override with categoryMap to weapons-explosives if preferred
  S10: 'hate',
  S11: 'self-harm',
  S12: 'sexual-content',
  S13: 'elections',
  S14: 'security-offensive', // code interpreter abuse
};
