/**
 * Authenticate and plan: the key becomes a principal, the body a canonical request, its model a catalogue entry;
 * the prompt is fingerprinted and the audit sink's health checked. Any failure is the error to answer with.
 */
import type { IncomingMessage } from 'node:http';
import type { CanonicalRequest } from '../../core/canonical.ts';
import { truncateEcho } from '../../core/echo.ts';
import { GatewayError } from '../../protocol/errors.ts';
import type { Catalogue, CatalogueModel } from '../catalogue.ts';
import { bearerOrApiKey, type RequestPathDeps } from './context.ts';
import type { RequestState } from './state.ts';

export interface Planned {
  req: CanonicalRequest;
  model: CatalogueModel;
  catalogue: Catalogue;
}

const AUTH_MESSAGES = {
  missing: 'Missing API key. Send it as `Authorization: Bearer <key>` or `x-api-key: <key>`.',
  revoked: 'This API key has been revoked.',
  unknown: 'Invalid API key.',
} as const;
const AUTH_CODES = { missing: 'missing_api_key', revoked: 'key_revoked', unknown: 'invalid_api_key' } as const;

/** Fills the state's principal, model and fingerprints; the error (with the outcome set) when the request ends here. */
export function authenticateAndPlan(deps: RequestPathDeps, state: RequestState, raw: IncomingMessage, body: unknown): Planned | GatewayError {
  const auth = deps.keys.lookup(bearerOrApiKey(raw));
  if (!auth.ok) {
    state.outcome = 'invalid';
    return new GatewayError({ status: 401, kind: 'authentication', code: AUTH_CODES[auth.reason], message: AUTH_MESSAGES[auth.reason] });
  }
  state.principal = auth.principal;
  const req = parse(state, body);
  if (req instanceof GatewayError) return req;
  state.modelRequested = truncateEcho(req.model);
  state.stream = req.stream;
  const catalogue = deps.catalogue();
  const model = catalogue.models.get(req.model);
  if (!model || model.config.hidden) {
    state.outcome = 'invalid';
    return new GatewayError({ status: 404, kind: 'not_found', code: 'model_not_found', param: 'model', message: `The model '${state.modelRequested}' does not exist or you do not have access to it.` });
  }
  if (deps.fingerprint) Object.assign(state, deps.fingerprint(req));
  const durable = deps.durable();
  if (durable?.wantsText) {
    state.request = req;
    state.responseText = '';
  }
  if (durable && !durable.healthy && deps.refuseWhenUnaudited) {
    state.outcome = 'refused';
    return new GatewayError({ status: 503, kind: 'overloaded', code: 'audit_unavailable', message: 'The gateway cannot record requests right now and refuses to serve unaudited ones. Try again later.' });
  }
  return { req, model, catalogue };
}

function parse(state: RequestState, body: unknown): CanonicalRequest | GatewayError {
  try {
    return state.protocol.parseRequest(body);
  } catch (err) {
    state.outcome = 'invalid';
    if (body && typeof body === 'object' && typeof (body as { model?: unknown }).model === 'string') state.modelRequested = truncateEcho((body as { model: string }).model);
    return err instanceof GatewayError ? err : new GatewayError({ status: 400, kind: 'invalid_request', code: 'invalid_request', message: 'Invalid request.' });
  }
}
