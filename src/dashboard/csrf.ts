/**
 * CSRF protection of actions: a token bound to the actor, `nonce.hmac(secret, actor + nonce)`,
 * given out only in the dashboard's own page (another site cannot read it) and required in the
 * `X-CSRF-Token` header of every action. Stateless, so any instance sharing the secret checks it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class CsrfTokens {
  private readonly secret: Buffer;

  constructor(secret: string | Uint8Array | undefined) {
    this.secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  issue(actor: string): string {
    const nonce = randomBytes(16).toString('base64url');
    return `${nonce}.${this.sign(actor, nonce)}`;
  }

  verify(actor: string, token: string | undefined): boolean {
    if (typeof token !== 'string') return false;
    const [nonce, mac, extra] = token.split('.');
    if (!nonce || !mac || extra !== undefined) return false;
    const expected = Buffer.from(this.sign(actor, nonce));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(actor: string, nonce: string): string {
    return createHmac('sha256', this.secret).update(`${actor}\u0000${nonce}`).digest('base64url');
  }
}
