/**
 * The encodings the encoding transforms apply, each with its exact inverse (the tests decode every chain back to the
 * seed). Pure string functions over UTF-8.
 */

export const ENCODINGS = ['base64', 'hex', 'url', 'rot13', 'reversed', 'html-entities', 'unicode-escapes', 'tag-chars'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** How the attacker names the encoding to the model ("decode this …"). */
export const ENCODING_NAMES: Record<Encoding, string> = {
  base64: 'base64',
  hex: 'hexadecimal (UTF-8 bytes)',
  url: 'URL percent-encoding',
  rot13: 'ROT13',
  reversed: 'reversed text (read it right to left)',
  'html-entities': 'HTML numeric character references',
  'unicode-escapes': 'JavaScript \\u escapes',
  'tag-chars': 'Unicode tag characters (U+E0000 plus the ASCII code)',
};

function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** Every UTF-8 byte as %XX — not encodeURIComponent, which leaves letters readable. */
function urlEncodeAll(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

function htmlEntities(s: string): string {
  let out = '';
  for (const ch of s) out += `&#${ch.codePointAt(0)};`;
  return out;
}

function unicodeEscapes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += '\\u' + s.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

/** Tag characters only exist for printable ASCII; other characters pass through unchanged. */
function tagChars(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c >= 0x20 && c < 0x7f ? String.fromCodePoint(0xe0000 + c) : ch;
  }
  return out;
}

export function encode(kind: Encoding, s: string): string {
  switch (kind) {
    case 'base64':
      return Buffer.from(s, 'utf8').toString('base64');
    case 'hex':
      return Buffer.from(s, 'utf8').toString('hex');
    case 'url':
      return urlEncodeAll(s);
    case 'rot13':
      return rot13(s);
    case 'reversed':
      return [...s].reverse().join('');
    case 'html-entities':
      return htmlEntities(s);
    case 'unicode-escapes':
      return unicodeEscapes(s);
    case 'tag-chars':
      return tagChars(s);
  }
}

export function decode(kind: Encoding, s: string): string {
  switch (kind) {
    case 'base64':
      return Buffer.from(s, 'base64').toString('utf8');
    case 'hex':
      return Buffer.from(s, 'hex').toString('utf8');
    case 'url':
      return decodeURIComponent(s);
    case 'rot13':
      return rot13(s);
    case 'reversed':
      return [...s].reverse().join('');
    case 'html-entities':
      return s.replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)));
    case 'unicode-escapes':
      return s.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    case 'tag-chars': {
      let out = '';
      for (const ch of s) {
        const c = ch.codePointAt(0)!;
        out += c >= 0xe0020 && c < 0xe007f ? String.fromCharCode(c - 0xe0000) : ch;
      }
      return out;
    }
  }
}

/** Applies the chain left to right (the first entry is innermost). */
export function encodeChain(chain: readonly Encoding[], s: string): string {
  let out = s;
  for (const k of chain) out = encode(k, out);
  return out;
}

/** Undoes `encodeChain(chain, ·)`. */
export function decodeChain(chain: readonly Encoding[], s: string): string {
  let out = s;
  for (let i = chain.length - 1; i >= 0; i--) out = decode(chain[i]!, out);
  return out;
}

/** The attacker's instruction for a chain, outermost first ("decode base64, then hex, then …"). */
export function describeChain(chain: readonly Encoding[]): string {
  return [...chain].reverse().map((k) => ENCODING_NAMES[k]).join(', then ');
}
