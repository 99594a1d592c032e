/** A labelled training or evaluation example, and the split it belongs to (dataset.ts decides the split). */
import type { TopicLabel } from '../labels.ts';

export interface Example {
  id: string;
  text: string;
  /** null: this example teaches only the jailbreak head (its topic is unknown). */
  topic: TopicLabel | null;
  jailbreak: 0 | 1;
  source: string;
  /** Derived examples carry their origin's id here so that they land in the same split as it. */
  group?: string;
}

export type Split = 'train' | 'dev' | 'test';
