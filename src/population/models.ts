/** Model name globs: `*` matches any run of characters; everything else is literal. */
export interface ModelMatcher {
  readonly patterns: readonly string[];
  matches(model: string): boolean;
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

export function compileModelMatcher(patterns: readonly string[]): ModelMatcher {
  const literals = new Set(patterns.filter((p) => !isGlob(p)));
  const globs = patterns.filter(isGlob).map((p) => new RegExp(`^${p.split('*').map(escape).join('.*')}$`));
  const any = patterns.includes('*');
  return {
    patterns,
    matches: (model) => any || literals.has(model) || globs.some((g) => g.test(model)),
  };
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** The issue with a model pattern given the catalogue, or undefined. An empty catalogue accepts anything. */
export function modelPatternProblem(pattern: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  if (isGlob(pattern)) {
    const m = compileModelMatcher([pattern]);
    return known.some((k) => m.matches(k)) ? undefined : `model pattern '${pattern}' matches no model in the catalogue (${known.join(', ')})`;
  }
  return known.includes(pattern) ? undefined : `unknown model '${pattern}' (catalogue: ${known.join(', ')})`;
}
