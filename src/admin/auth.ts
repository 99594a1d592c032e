/**
 * Admin-token authentication for /admin/v1/*, as a Fastify onRequest hook:
 *   app.addHook('onRequest', adminAuthHook(() => process.env.GATEHOUSE_ADMIN_TOKEN));
 * - no token configured → 404 (the admin API does not exist on this gateway);
 * - missing/wrong `Authorization: Bearer <token>` → 401 with WWW-Authenticate.
 * The token is read on every request through getToken, so a config reload can rotate it.
 * Comparison is constant-time: both sides are SHA-256'd to equal length first, then timingSafeEqual'd.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Extracts the bearer token from an Authorization header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}

export function adminTokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function adminAuthHook(getToken: () => string | undefined) {
  return async function adminAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const expected = getToken();
    if (!expected) {
      await reply.code(404).send({ error: { type: 'admin_disabled', message: 'the admin API is disabled: no admin token is configured' } });
      return;
    }
    const given = bearerToken(request.headers.authorization);
    if (given === undefined || !adminTokenMatches(given, expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="gatehouse-admin"')
        .send({
          error: {
            type: 'unauthorized',
            message: given === undefined ? 'missing admin token: send Authorization: Bearer <admin token>' : 'invalid admin token',
          },
        });
    }
  };
}
