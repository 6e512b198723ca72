import crypto from 'crypto';

/**
 * GOV.UK Pay webhook signatures (CONTRACTS.md, "Online payments: GOV.UK Pay webhooks"):
 * header `Pay-Signature` is the lower-case hex HMAC-SHA256 of the raw body, keyed with the
 * webhook's signing secret. The hub must check it on the bytes it received, before parsing.
 */

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/** lower-case hex HMAC-SHA256 of the raw body keyed with the signing secret */
export function signWebhookBody(body: Buffer | string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * true only when header is exactly the expected hex signature; constant-time compare
 * (crypto.timingSafeEqual on equal-length buffers; a missing, wrongly sized or non-hex
 * header is false without throwing).
 */
export function verifyWebhookSignature(body: Buffer, header: string | string[] | undefined, secret: string): boolean {
  // Several Pay-Signature headers: GOV.UK Pay sends one, so there is no telling which to trust.
  if (typeof header !== 'string') return false;
  // Lower-case hex only, as the contract says; this also rules out Buffer.from(hex) silently dropping bad characters.
  if (!HEX_SIGNATURE.test(header)) return false;
  if (typeof secret !== 'string' || secret.length === 0) return false;
  const expected = crypto.createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(header, 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
