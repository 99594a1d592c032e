/**
 * ISO 3166-1 alpha-2: the 249 officially assigned codes (ISO 3166 Maintenance Agency). Reserved and
 * user-assigned codes (UK, EL, EU, XK, …) are not country codes in this sense and are rejected, with a hint
 * where the mistake is common. Policy rules reuse this list to validate the countries they name.
 */
const OFFICIALLY_ASSIGNED =
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ ' +
  'BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ ' +
  'DE DJ DK DM DO DZ ' +
  'EC EE EG EH ER ES ET ' +
  'FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY ' +
  'HK HM HN HR HT HU ' +
  'ID IE IL IM IN IO IQ IR IS IT ' +
  'JE JM JO JP ' +
  'KE KG KH KI KM KN KP KR KW KY KZ ' +
  'LA LB LC LI LK LR LS LT LU LV LY ' +
  'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ ' +
  'NA NC NE NF NG NI NL NO NP NR NU NZ ' +
  'OM ' +
  'PA PE PF PG PH PK PL PM PN PR PS PT PW PY ' +
  'QA ' +
  'RE RO RS RU RW ' +
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ ' +
  'TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ ' +
  'UA UG UM US UY UZ ' +
  'VA VC VE VG VI VN VU ' +
  'WF WS ' +
  'YE YT ' +
  'ZA ZM ZW';

export const COUNTRY_CODES: ReadonlySet<string> = new Set(OFFICIALLY_ASSIGNED.split(' '));

/** Codes people often type that are not officially assigned, with the code they most likely mean. */
const HINTS: Readonly<Record<string, string>> = {
  UK: "reserved for the United Kingdom; use 'GB'",
  EL: "reserved for Greece; use 'GR'",
  EU: 'reserved for the European Union, which is not a country',
  XK: 'user-assigned (Kosovo), not officially assigned',
  AN: "withdrawn (Netherlands Antilles); use 'BQ', 'CW' or 'SX'",
  YU: "withdrawn (Yugoslavia); use 'RS' or 'ME'",
  CS: "withdrawn (Serbia and Montenegro); use 'RS' or 'ME'",
  TP: "withdrawn (East Timor); use 'TL'",
  ZR: "withdrawn (Zaire); use 'CD'",
  SU: 'withdrawn (USSR)',
};

export function isCountryCode(code: string): boolean {
  return COUNTRY_CODES.has(code);
}

/**
 * Why `input` is not an officially assigned ISO 3166-1 alpha-2 code, or undefined when it is.
 * Case matters: callers normalise to upper case first if they accept lower case.
 */
export function countryCodeProblem(input: string): string | undefined {
  if (COUNTRY_CODES.has(input)) return undefined;
  if (!/^[A-Z]{2}$/.test(input)) {
    return `'${input}' is not an ISO 3166-1 alpha-2 country code (expected two letters, e.g. 'US', 'GB')`;
  }
  const hint = HINTS[input];
  return hint
    ? `'${input}' is not an officially assigned ISO 3166-1 alpha-2 code: ${hint}`
    : `'${input}' is not an officially assigned ISO 3166-1 alpha-2 code`;
}
