/**
 * Rewrites portable `$1, $2…` placeholders into SQLite's numbered `?1, ?2…` form, skipping string literals,
 * quoted identifiers and comments so a `$1` inside `'…'` stays text. Pure; results are cached by the caller.
 */
export function rewritePlaceholders(sql: string): { sql: string; maxIndex: number } {
  let out = '';
  let maxIndex = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      // Quoted literal or identifier; a doubled quote is an escaped quote.
      let j = i + 1;
      while (j < n) {
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '$' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      let j = i + 1;
      while (j < n && sql[j] >= '0' && sql[j] <= '9') j++;
      const index = Number(sql.slice(i + 1, j));
      if (index > maxIndex) maxIndex = index;
      out += '?' + index;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return { sql: out, maxIndex };
}
