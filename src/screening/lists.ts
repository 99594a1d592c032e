/**
 * Denied-party and sanctions lists, loaded from files in their publishers' formats:
 *   - OFAC SDN, legacy CSV: `sdn.csv` (ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage,
 *     GRT, Vess_flag, Vess_owner, Remarks; no header; `-0-` for empty) with, beside it, `alt.csv` (ent_num, alt_num,
 *     alt_type, alt_name, alt_remarks: aliases) and `add.csv` (ent_num, add_num, address, city/state/postal,
 *     country, add_remarks) when present;
 *   - the US Consolidated Screening List as JSON (`{"results": [{id, name, alt_names, addresses: [{country}],
 *     nationalities, citizenships, type, programs, source}]}`) or CSV with a header row (`name` required;
 *     `alt_names` separated by `;`; `addresses`, `nationalities`, `citizenships`, `type`, `programs`, `source`,
 *     `_id`/`id`/`entity_number` used when present).
 * A malformed file is refused with file:line and why; countries are kept as ISO 3166-1 alpha-2 codes (names, as OFAC
 * writes them, are mapped).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { COUNTRY_CODES } from '../population/countries.ts';
import { fold } from './normalize.ts';

export type EntryType = 'individual' | 'entity' | 'vessel' | 'aircraft' | 'unknown';

export interface ScreeningEntry {
  /** Unique within its list. */
  id: string;
  /** The list file's name for it (`ofac-sdn`, `csl`, or given). */
  list: string;
  /** The publisher's list (e.g. `Specially Designated Nationals (SDN) - Treasury Department`). */
  source: string;
  type: EntryType;
  name: string;
  aliases: string[];
  /** ISO 3166-1 alpha-2, from addresses, nationalities and citizenships. */
  countries: string[];
  programs: string[];
}

export class ListFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ListFormatError';
  }
}

/** RFC 4180 CSV: quoted fields with doubled quotes and embedded newlines. Rows carry their first line number. */
export function parseCsv(text: string, file: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new ListFormatError(file, start, 'unterminated quoted field');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new ListFormatError(file, line, `unexpected character after a quoted field: ${JSON.stringify(text[i])}`);
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
        if (cell.includes('"')) throw new ListFormatError(file, line, 'a quote inside an unquoted field');
      }
      cells.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: start, cells });
  }
  return rows;
}

let countryIndex: Map<string, string> | null = null;
/** OFAC's spellings that differ from the English region names. */
const COUNTRY_ALIASES: Record<string, string> = {
  'korea north': 'KP', 'north korea': 'KP', 'korea south': 'KR', burma: 'MM', 'congo democratic republic of the': 'CD', 'congo republic of the': 'CG', russia: 'RU', iran: 'IR', syria: 'SY',
  'cote d ivoire': 'CI', 'ivory coast': 'CI', 'west bank': 'PS', 'gaza': 'PS', 'palestinian': 'PS', 'united kingdom': 'GB', 'uk': 'GB', 'united states': 'US', 'usa': 'US', 'vietnam': 'VN', 'laos': 'LA',
  'bolivia': 'BO', 'venezuela': 'VE', 'tanzania': 'TZ', 'moldova': 'MD', 'the bahamas': 'BS', 'bahamas': 'BS', 'turkey': 'TR', 'turkiye': 'TR', 'czech republic': 'CZ', 'macedonia': 'MK', 'kosovo': 'XK',
};

/** An ISO alpha-2 code for a code or an English country name, or null. */
export function countryCode(value: string): string | null {
  const v = value.trim();
  if (/^[A-Za-z]{2}$/.test(v) && COUNTRY_CODES.has(v.toUpperCase())) return v.toUpperCase();
  if (!countryIndex) {
    countryIndex = new Map();
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of COUNTRY_CODES) {
      const name = names.of(code);
      if (name) countryIndex.set(fold(name), code);
    }
    for (const [k, c] of Object.entries(COUNTRY_ALIASES)) countryIndex.set(k, c);
  }
  return countryIndex.get(fold(v)) ?? null;
}

const nil = (v: string | undefined) => (v === undefined || v.trim() === '' || v.trim() === '-0-' ? '' : v.trim());

function sdnType(t: string): EntryType {
  const v = t.toLowerCase();
  if (v === 'individual') return 'individual';
  if (v === 'vessel') return 'vessel';
  if (v === 'aircraft') return 'aircraft';
  return v === '' ? 'entity' : 'unknown';
}

/** OFAC SDN legacy CSV; `alt.csv` and `add.csv` beside `sdn.csv` are read when present. */
export function loadOfacSdn(path: string, list = 'ofac-sdn'): ScreeningEntry[] {
  const rows = parseCsv(readFileSync(path, 'utf8'), path);
  const byId = new Map<string, ScreeningEntry>();
  for (const r of rows) {
    if (r.cells.length < 4) throw new ListFormatError(path, r.line, `expected the SDN columns (ent_num, SDN_Name, SDN_Type, Program, …), found ${r.cells.length} field(s)`);
    const id = nil(r.cells[0]);
    if (!/^\d+$/.test(id)) throw new ListFormatError(path, r.line, `ent_num must be a number, found ${JSON.stringify(r.cells[0]).slice(0, 40)}`);
    const name = nil(r.cells[1]);
    if (!name) throw new ListFormatError(path, r.line, 'SDN_Name is empty');
    byId.set(id, { id, list, source: 'OFAC Specially Designated Nationals (SDN)', type: sdnType(nil(r.cells[2])), name, aliases: [], countries: [], programs: nil(r.cells[3]).split(/[\];[]+/).map((p) => p.trim()).filter(Boolean) });
  }
  const dir = dirname(path);
  const sibling = (n: string) => join(dir, basename(path).replace(/sdn/i, n));
  const alt = existsSync(sibling('alt')) && sibling('alt') !== path ? sibling('alt') : null;
  if (alt) {
    for (const r of parseCsv(readFileSync(alt, 'utf8'), alt)) {
      const e = byId.get(nil(r.cells[0]));
      const name = nil(r.cells[3]);
      if (e && name) e.aliases.push(name);
    }
  }
  const add = existsSync(sibling('add')) && sibling('add') !== path ? sibling('add') : null;
  if (add) {
    for (const r of parseCsv(readFileSync(add, 'utf8'), add)) {
      const e = byId.get(nil(r.cells[0]));
      const c = countryCode(nil(r.cells[4]));
      if (e && c && !e.countries.includes(c)) e.countries.push(c);
    }
  }
  return [...byId.values()];
}

function cslType(t: unknown): EntryType {
  const v = String(t ?? '').toLowerCase();
  if (v === 'individual') return 'individual';
  if (v === 'entity') return 'entity';
  if (v === 'vessel') return 'vessel';
  if (v === 'aircraft') return 'aircraft';
  return 'unknown';
}

function cslCountries(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const c = typeof v === 'string' ? countryCode(v) : null;
    if (c && !out.includes(c)) out.push(c);
  }
  return out;
}

/** The Consolidated Screening List as JSON. */
export function loadCslJson(path: string, list = 'csl'): ScreeningEntry[] {
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // Where: from the message when it says, else found by a small scanner (V8 does not always give the position).
    const m = /position (\d+)/.exec((err as Error).message);
    let line = m ? text.slice(0, Number(m[1])).split('\n').length : 0;
    if (!line) line = text.slice(0, jsonErrorOffset(text)).split('\n').length;
    throw new ListFormatError(path, line, `not JSON: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`);
  }
  const results = Array.isArray(doc) ? doc : (doc as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) throw new ListFormatError(path, 1, 'expected {"results": [...]} (the Consolidated Screening List JSON) or a list of entries');
  return results.map((r: Record<string, unknown>, i) => {
    if (!r || typeof r !== 'object' || typeof r.name !== 'string' || r.name.trim() === '') throw new ListFormatError(path, 1, `results[${i}]: an entry needs a name`);
    const addresses = Array.isArray(r.addresses) ? (r.addresses as Array<{ country?: unknown }>).map((a) => a?.country) : [];
    return {
      id: String(r.id ?? r._id ?? r.entity_number ?? i + 1),
      list,
      source: typeof r.source === 'string' ? r.source : 'Consolidated Screening List',
      type: cslType(r.type),
      name: r.name.trim(),
      aliases: Array.isArray(r.alt_names) ? (r.alt_names as unknown[]).filter((a): a is string => typeof a === 'string' && a.trim() !== '') : [],
      countries: cslCountries([...addresses, ...(Array.isArray(r.nationalities) ? r.nationalities : []), ...(Array.isArray(r.citizenships) ? r.citizenships : [])]),
      programs: Array.isArray(r.programs) ? (r.programs as unknown[]).map(String) : [],
    };
  });
}

/** The Consolidated Screening List as CSV with a header row. */
export function loadCslCsv(path: string, list = 'csl'): ScreeningEntry[] {
  const rows = parseCsv(readFileSync(path, 'utf8'), path);
  if (rows.length === 0) return [];
  const header = rows[0]!.cells.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const iName = col('name');
  if (iName < 0) throw new ListFormatError(path, rows[0]!.line, `no 'name' column in the header (found: ${header.slice(0, 8).join(', ')})`);
  const iId = [col('_id'), col('id'), col('entity_number')].find((c) => c >= 0) ?? -1;
  const get = (cells: string[], name: string) => (col(name) >= 0 ? (cells[col(name)] ?? '').trim() : '');
  return rows.slice(1).map((r, i) => {
    if (r.cells.length !== header.length) throw new ListFormatError(path, r.line, `expected ${header.length} fields as in the header, found ${r.cells.length}`);
    const name = (r.cells[iName] ?? '').trim();
    if (!name) throw new ListFormatError(path, r.line, 'name is empty');
    const split = (v: string) => v.split(';').map((s) => s.trim()).filter(Boolean);
    // `addresses` holds free text; its last comma-separated part is the country when it is one.
    const addressCountries = split(get(r.cells, 'addresses')).map((a) => a.split(',').pop()!.trim());
    return {
      id: iId >= 0 && r.cells[iId]?.trim() ? r.cells[iId]!.trim() : String(i + 1),
      list,
      source: get(r.cells, 'source') || 'Consolidated Screening List',
      type: cslType(get(r.cells, 'type')),
      name,
      aliases: split(get(r.cells, 'alt_names')),
      countries: cslCountries([...addressCountries, ...split(get(r.cells, 'nationalities')), ...split(get(r.cells, 'citizenships')), ...split(get(r.cells, 'countries'))]),
      programs: split(get(r.cells, 'programs')),
    };
  });
}

export type ListFormat = 'ofac-sdn' | 'csl-json' | 'csl-csv';

/** `PATH` or `FORMAT:PATH`; the format is guessed from the name when not given (sdn*.csv, *.json, *.csv). */
export function loadList(spec: string): ScreeningEntry[] {
  const m = /^(ofac-sdn|csl-json|csl-csv):(.+)$/.exec(spec);
  const path = m ? m[2]! : spec;
  const format: ListFormat = m ? (m[1] as ListFormat) : /sdn[^/]*\.csv$/i.test(path) ? 'ofac-sdn' : /\.json$/i.test(path) ? 'csl-json' : 'csl-csv';
  if (!existsSync(path)) throw new ListFormatError(path, 0, 'no such file');
  return format === 'ofac-sdn' ? loadOfacSdn(path) : format === 'csl-json' ? loadCslJson(path) : loadCslCsv(path);
}

/** Offset of the first syntax error of a JSON text (a minimal recursive scanner; only called on text JSON.parse rejected). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
  return text.length;
}
