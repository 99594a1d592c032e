/**
 * Licence exports, the pure part: the exports a licence covers, each a first-class record of the ledger — who
 * receives the model (an account, or the licensee organisation), which model, to which destination country, and for
 * how long (within the licence's own validity). Recording one validates it against its licence; revoking keeps the
 * row. The export-control report matches every request served under a licence to the export that covers it
 * (`exportCovering`), and lists what no recorded export covers.
 */
import { z } from 'zod';
import { countryCodeProblem } from '../population/countries.ts';
import { resolveCountries, type GroupTable } from '../population/groups.ts';
import { compileModelMatcher } from '../population/models.ts';
import { epochOrIso } from '../population/time.ts';
import { jsonSink, PolicyValidationError, zodIssues, type Issue, type IssueSink } from '../core/validation.ts';
import type { LicenceRecord } from './licences.ts';

export interface LicenceExport {
  id: string;
  licenceId: string;
  /** Who receives it: `account:ID` or `org:ID`. */
  recipient: string;
  /** One public model name. */
  model: string;
  /** ISO 3166-1 alpha-2 country the model is exported to (the recipient's country of residence). */
  destination: string;
  validFrom: number;
  validTo: number;
  recordedAt: number;
  recordedBy: string;
  revokedAt: number | null;
  revokedBy: string | null;
  revokedReason: string | null;
}

const text = (what: string, max = 200) => z.string().trim().min(1, `${what} must not be empty`).max(max).regex(/^[^\u0000-\u001f\u007f]*$/, `${what} must not contain control characters`);

export const exportRecordSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits, . _ : - (at most 100)').optional(),
  recipient: z.string().regex(/^(account|org):[^\s]{1,200}$/, "'account:ID' or 'org:ID'"),
  model: z.string().min(1).max(200),
  destination: z.string().min(1).max(2),
  /** Default: the licence's own validity. */
  validFrom: epochOrIso.optional(),
  validTo: epochOrIso.optional(),
  by: text('by'),
});
export type ExportInput = z.output<typeof exportRecordSchema>;

/**
 * Validates an export against its licence: the licence is not revoked; the recipient is the licensee (an account
 * licence) or the licensee organisation or one of its accounts (an organisation licence — membership is the key
 * store's business and is not checked here); the model is one the licence covers; the destination is a country its
 * destinations cover; the validity lies within the licence's. Throws PolicyValidationError with JSON paths.
 */
export function parseExport(input: unknown, licence: LicenceRecord, groups: GroupTable, sink: IssueSink = jsonSink()): Omit<LicenceExport, 'id' | 'recordedAt' | 'revokedAt' | 'revokedBy' | 'revokedReason'> & { id?: string } {
  const r = exportRecordSchema.safeParse(input);
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, sink));
  const e = r.data;
  const issues: Issue[] = [];
  if (licence.revokedAt !== null) issues.push(sink.issue([], `licence ${licence.id} was revoked at ${new Date(licence.revokedAt).toISOString()}: it covers no new export`));
  const [kind, who] = [e.recipient.slice(0, e.recipient.indexOf(':')), e.recipient.slice(e.recipient.indexOf(':') + 1)];
  if (licence.licenseeType === 'account' && !(kind === 'account' && who === licence.licensee)) issues.push(sink.issue(['recipient'], `licence ${licence.id} is held by account ${licence.licensee}: only 'account:${licence.licensee}' can receive under it`));
  if (licence.licenseeType === 'org' && kind === 'org' && who !== licence.licensee) issues.push(sink.issue(['recipient'], `licence ${licence.id} is held by organisation ${licence.licensee}, not ${who}`));
  if (!compileModelMatcher(licence.models).matches(e.model)) issues.push(sink.issue(['model'], `licence ${licence.id} does not cover model '${e.model}' (it covers ${licence.models.join(', ')})`));
  const problem = countryCodeProblem(e.destination);
  if (problem) issues.push(sink.issue(['destination'], problem));
  else if (!licence.destinations.includes('*')) {
    const covered = resolveCountries(licence.destinations, groups, sink, ['destination'], []);
    if (covered && !covered.has(e.destination)) issues.push(sink.issue(['destination'], `licence ${licence.id} does not cover destination ${e.destination} (it covers ${licence.destinations.join(', ')})`));
  }
  const validFrom = e.validFrom ?? licence.validFrom;
  const validTo = e.validTo ?? licence.validTo;
  if (validFrom < licence.validFrom) issues.push(sink.issue(['validFrom'], `starts before the licence (${new Date(licence.validFrom).toISOString()})`));
  if (validTo > licence.validTo) issues.push(sink.issue(['validTo'], `ends after the licence (${new Date(licence.validTo).toISOString()})`));
  if (validTo <= validFrom) issues.push(sink.issue(['validTo'], `must be after validFrom (${new Date(validFrom).toISOString()})`));
  if (issues.length) throw new PolicyValidationError(issues);
  return { ...(e.id ? { id: e.id } : {}), licenceId: licence.id, recipient: e.recipient, model: e.model, destination: e.destination, validFrom, validTo, recordedBy: e.by };
}

/** Whether an export was in force at `time` (within its validity, not yet revoked). */
export function exportInForce(e: LicenceExport, time: number): boolean {
  return time >= e.validFrom && time < e.validTo && (e.revokedAt === null || time < e.revokedAt);
}

/**
 * The export of this licence that covers a request served to (account, org) from `residence`, of `model`, at
 * `time`: recipient is the account or its organisation, same model, destination = residence, in force. First match
 * in the given order, or undefined.
 */
export function exportCovering(exports: readonly LicenceExport[], req: { accountId: string | null; orgId: string | null; model: string; residence: string | null; time: number }): LicenceExport | undefined {
  for (const e of exports) {
    if (e.model !== req.model || e.destination !== req.residence || !exportInForce(e, req.time)) continue;
    if ((req.accountId !== null && e.recipient === `account:${req.accountId}`) || (req.orgId !== null && e.recipient === `org:${req.orgId}`)) return e;
  }
  return undefined;
}
