/**
 * Names for screening: folded to a comparable Latin form (Unicode decomposition, diacritics dropped, Cyrillic,
 * Greek and Arabic letters transliterated), split into tokens without legal-form and particle words, and reduced to
 * a phonetic key per token that makes common transliteration variants collide (Mohammed / Muhammad → mhmd,
 * Yusuf / Jusuf / Iousouf → asf, Khaled / Haled → hld).
 */

const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f',
  х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya', і: 'i', ї: 'yi', є: 'ye', ґ: 'g', ў: 'u', ђ: 'dj', ј: 'j', љ: 'lj', њ: 'nj', ћ: 'c', џ: 'dz',
};
const GREEK: Record<string, string> = {
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o',
};
const ARABIC: Record<string, string> = {
  ا: 'a', أ: 'a', إ: 'i', آ: 'a', ب: 'b', ت: 't', ث: 'th', ج: 'j', ح: 'h', خ: 'kh', د: 'd', ذ: 'dh', ر: 'r', ز: 'z', س: 's', ش: 'sh', ص: 's', ض: 'd', ط: 't', ظ: 'z', ع: '', غ: 'gh',
  ف: 'f', ق: 'q', ك: 'k', ل: 'l', م: 'm', ن: 'n', ه: 'h', و: 'w', ي: 'y', ى: 'a', ة: 'a', ء: '', ؤ: 'w', ئ: 'y', پ: 'p', چ: 'ch', ژ: 'zh', گ: 'g', ک: 'k', ی: 'y',
};

/** Legal forms and particles: they carry little identity and would make every company match every other. */
export const STOPWORDS = new Set([
  'ltd', 'llc', 'inc', 'co', 'company', 'corp', 'corporation', 'limited', 'group', 'holding', 'holdings', 'the', 'of', 'and', 'trading', 'international', 'intl', 'gmbh', 'sa', 'ag', 'ooo', 'zao',
  'oao', 'pao', 'ao', 'jsc', 'ojsc', 'cjsc', 'plc', 'bv', 'nv', 'srl', 'spa', 'est', 'establishment', 'for', 'general', 'bin', 'ibn', 'al', 'el', 'de', 'la', 'le', 'du', 'van', 'von', 'der', 'mr', 'mrs', 'dr',
  'fze', 'fzco', 'fzc', 'sarl', 'sas', 'kg', 'oy', 'ab', 'as', 'pte', 'pvt', 'private', 'public', 'lp', 'llp',
]);

/** Folded text: lower-case ASCII letters and digits separated by single spaces. */
export function fold(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFKD').toLowerCase()) {
    const code = ch.charCodeAt(0);
    if (code >= 0x300 && code <= 0x36f) continue; // combining diacritics
    if ((code >= 97 && code <= 122) || (code >= 48 && code <= 57)) out += ch;
    else if (ch in CYRILLIC) out += CYRILLIC[ch];
    else if (ch in GREEK) out += GREEK[ch];
    else if (ch in ARABIC) out += ARABIC[ch];
    else if (ch === 'ß') out += 'ss';
    else if (ch === 'æ') out += 'ae';
    else if (ch === 'ø') out += 'o';
    else if (ch === 'đ') out += 'd';
    else if (ch === 'ł') out += 'l';
    else if (ch === "'" || ch === '’' || ch === '`' || (code >= 0x64b && code <= 0x652)) continue; // apostrophes, Arabic vowel marks
    else out += ' ';
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** Tokens of a name without stopwords (all of them when the name is nothing but stopwords). */
export function tokens(name: string): string[] {
  const all = fold(name).split(' ').filter(Boolean);
  const kept = all.filter((t) => !STOPWORDS.has(t));
  return kept.length ? kept : all;
}

/**
 * Phonetic key of a folded token: digraphs and letters that transliterations swap are merged, vowels after the
 * first letter dropped, doubled letters collapsed.
 */
export function phoneticKey(t: string): string {
  const s = t
    .replace(/x/g, 'ks')
    .replace(/(.)\1+/g, '$1')
    .replace(/kh/g, 'h')
    .replace(/gh/g, 'g')
    .replace(/ph/g, 'f')
    .replace(/th/g, 't')
    .replace(/dh/g, 'd')
    .replace(/sh|sch|ch|zh/g, 's')
    .replace(/ck|q|c/g, 'k')
    .replace(/z/g, 's')
    .replace(/w/g, 'v')
    .replace(/[yj]/g, 'i')
    .replace(/ou|oo/g, 'u');
  // A leading vowel is kept, as one class, so Iousouf / Yusuf / Usuf meet; later vowels are dropped.
  let out = 'aeiou'.includes(s[0] ?? '') ? 'a' : (s[0] ?? '');
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if ('aeiou'.includes(c)) continue;
    if (out[out.length - 1] !== c) out += c;
  }
  return out;
}

/** Jaro-Winkler similarity of two strings (0..1). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const range = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const ma = new Uint8Array(la);
  const mb = new Uint8Array(lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - range);
    const hi = Math.min(lb - 1, i + range);
    for (let j = lo; j <= hi; j++) {
      if (mb[j] || a.charCodeAt(i) !== b.charCodeAt(j)) continue;
      ma[i] = 1;
      mb[j] = 1;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let t = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (!ma[i]) continue;
    while (!mb[k]) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) t++;
    k++;
  }
  const jaro = (matches / la + matches / lb + (matches - t / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}
