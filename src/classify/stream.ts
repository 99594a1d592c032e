/**
 * Streaming output moderation. Text is released to the client only within the guarantee:
 *   at most `holdBackChars` characters that have not yet been checked ever reach the client;
 *   holdBackChars = 0 holds the whole response until end() has checked all of it.
 * Checks run on a running window: each check classifies the last `windowChars` characters up to the current end
 * (so a violation that straddles chunk boundaries is seen whole), stepping through the new text when more than a
 * window arrived at once. A violation returns a refuse verdict; the caller ends the stream with its protocol's terminal
 * event, and nothing after the checked prefix is released. A classifier error follows `failMode` (default closed).
 */
import type { Verdict } from '../core/types.ts';
import type { Scores } from './labels.ts';

export interface StreamModeratorOptions {
  /** Scores a piece of output text. */
  classify: (text: string) => Scores;
  /** Turns scores into a verdict (e.g. `s => decideAction(s, tier, config)`). Only `refuse` stops the stream. */
  decide: (scores: Scores) => Verdict;
  holdBackChars: number;
  windowChars: number;
  /** On a classifier error: `closed` ends the stream (503 verdict), `open` releases the text unchecked. */
  failMode?: 'open' | 'closed';
}

export interface ModerationStep {
  /** Text the caller may now send to the client. */
  release: string;
  /** Set once, when the stream must end. */
  verdict?: Verdict;
}

export interface StreamModerator {
  push(textDelta: string): ModerationStep;
  end(): ModerationStep;
  /** Characters checked so far, number of classifier calls made (for metrics). */
  readonly stats: { checkedChars: number; checks: number; releasedChars: number };
}

export function createStreamModerator(opts: StreamModeratorOptions): StreamModerator {
  const holdBack = Math.max(0, Math.floor(opts.holdBackChars));
  const window = Math.max(1, Math.floor(opts.windowChars));
  const failMode = opts.failMode ?? 'closed';
  // Only the tail of the text is kept: the last window for context plus what is not yet released.
  let buf = '';
  let bufStart = 0; // absolute offset of buf[0]
  let total = 0;
  let checked = 0;
  let released = 0;
  let stopped: Verdict | null = null;
  const stats = { checkedChars: 0, checks: 0, releasedChars: 0 };

  /** Checks windows ending at successive points until `upTo` is covered. Returns a stopping verdict, if any. */
  function checkTo(upTo: number): Verdict | null {
    while (checked < upTo) {
      const end = Math.min(upTo, checked + window);
      const start = Math.max(bufStart, end - window);
      const text = buf.slice(start - bufStart, end - bufStart);
      stats.checks++;
      let v: Verdict;
      try {
        v = opts.decide(opts.classify(text));
      } catch (e) {
        if (failMode === 'open') {
          checked = end;
          continue;
        }
        return { action: 'refuse', status: 503, code: 'output_moderation_unavailable', message: 'The response could not be checked by the safeguards classifier and was stopped.', ref: { classifier: 'output' }, reasons: [(e as Error).message] };
      }
      if (v.action === 'refuse') return v;
      stats.checkedChars += end - checked;
      checked = end;
    }
    return null;
  }

  function releaseTo(limit: number): string {
    if (limit <= released) return '';
    const out = buf.slice(released - bufStart, limit - bufStart);
    released = limit;
    stats.releasedChars = released;
    // Drop what is released and no longer needed as window context.
    const keepFrom = Math.min(released, Math.max(0, checked - window));
    if (keepFrom - bufStart > 4096) {
      buf = buf.slice(keepFrom - bufStart);
      bufStart = keepFrom;
    }
    return out;
  }

  function stop(v: Verdict): ModerationStep {
    stopped = v;
    return { release: '', verdict: v };
  }

  return {
    stats,
    push(delta: string): ModerationStep {
      if (stopped) return { release: '' };
      if (typeof delta !== 'string' || delta.length === 0) return { release: '' };
      buf += delta;
      total += delta.length;
      if (holdBack === 0) return { release: '' };
      // Check whenever the unchecked text would exceed the hold-back budget.
      if (total - checked > holdBack) {
        const v = checkTo(total);
        if (v) return stop(v);
      }
      return { release: releaseTo(total) };
    },
    end(): ModerationStep {
      if (stopped) return { release: '' };
      const v = checkTo(total);
      if (v) return stop(v);
      return { release: releaseTo(total) };
    },
  };
}
