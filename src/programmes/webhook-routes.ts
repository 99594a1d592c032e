/**
 * `POST /webhooks/kyc`: a KYC provider's signed verification event (see webhook.ts for the signature). Answers
 * 200 `{status: applied|duplicate|superseded}`; 401 for a missing, malformed or wrong signature or a timestamp
 * outside the replay window; 400 for a body that is not an event; 404 when the webhook is not configured.
 */
import type { FastifyInstance } from 'fastify';
import type { ProgrammeRepository } from './repository.ts';
import { verifyKycEvent } from './webhook.ts';

export function registerKycWebhook(
  app: FastifyInstance,
  deps: { repo: ProgrammeRepository; settings: () => { secret: string; toleranceSeconds: number } | null; changed: () => Promise<void>; path?: string },
): void {
  void app.register(async (scope) => {
    // The signature covers the exact bytes sent: keep the raw body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { type: 'invalid_request', code: err.statusCode === 413 ? 'request_too_large' : 'invalid_body', message: err.message } });
      // The store failed: the provider retries; nothing was applied (one transaction).
      request.log.error({ err: err.message }, 'kyc webhook failed');
      return reply.code(503).send({ error: { type: 'unavailable', code: 'store_unavailable', message: 'The verification could not be recorded; retry later.' } });
    });
    scope.post(deps.path ?? '/webhooks/kyc', async (request, reply) => {
      const settings = deps.settings();
      if (!settings) return reply.code(404).send({ error: { type: 'not_found', code: 'not_configured', message: 'The KYC webhook is not configured (programmes.kycWebhook).' } });
      const body = typeof request.body === 'string' ? request.body : '';
      if (!body) return reply.code(400).send({ error: { type: 'invalid_request', code: 'empty_body', message: 'The body is empty; expected a signed JSON event.' } });
      const sig = request.headers['x-kyc-signature'];
      const v = verifyKycEvent(settings.secret, Array.isArray(sig) ? sig[0] : sig, body, Date.now(), settings.toleranceSeconds);
      if (!v.ok) return reply.code(v.status).send({ error: { type: v.status === 401 ? 'authentication_error' : 'invalid_request', code: v.code, message: v.message } });
      const status = await deps.repo.applyVerification(v.event);
      if (status === 'applied') await deps.changed();
      return { status, event: v.event.eventId };
    });
  });
}
