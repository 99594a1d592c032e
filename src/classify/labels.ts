/** The mutually exclusive topic labels (softmax head) and the independent jailbreak head. */
export const TOPIC_LABELS = [
  'benign',
  'coding',
  'security-defensive',
  'security-offensive',
  'bio-chem',
  'other-harm',
] as const;
export type TopicLabel = (typeof TOPIC_LABELS)[number];
export const JAILBREAK = 'jailbreak' as const;
export const ALL_LABELS = [...TOPIC_LABELS, JAILBREAK] as const;
export type Label = (typeof ALL_LABELS)[number];
export type Scores = Record<Label, number>;

export function isLabel(s: string): s is Label {
  return (ALL_LABELS as readonly string[]).includes(s);
}
