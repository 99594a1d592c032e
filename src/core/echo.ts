/**
 * Client-supplied strings (model names, header values, field values quoted in errors) are echoed into responses,
 * logs, metrics, usage rows and audit records. Each echo is bounded so a client cannot make any of them grow
 * without limit: at most ECHO_MAX_CHARS characters, with an ellipsis and the original length when cut.
 */
export const ECHO_MAX_CHARS = 128;

export function truncateEcho(s: string, max: number = ECHO_MAX_CHARS): string {
  if (s.length <= max) return s;
  // Do not cut a surrogate pair in half: the result must stay well-formed UTF-16 (and so valid UTF-8 on the wire).
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…(${s.length} chars)`;
}
