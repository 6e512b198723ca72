import assert from 'assert';
import { execFileSync } from 'child_process';
import { signWebhookBody, verifyWebhookSignature } from '../../adapters/govuk-pay/signature';

/** The HMAC computed by another implementation (openssl) over the same bytes, so that a shared mistake cannot pass. */
function opensslHmac(body: Buffer, secret: string): string {
  const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret], { input: body }).toString('utf8');
  const match = /([0-9a-f]{64})\s*$/.exec(out);
  if (!match) throw new Error(`unexpected openssl output: ${out}`);
  return match[1];
}

describe('GOV.UK Pay webhook signatures', function () {
  const secret = 'webhook_live_6f9c1b2e';
  // Non-ASCII on purpose: the signature is over the raw bytes, not a re-encoded string.
  const body = Buffer.from(JSON.stringify({ webhook_message_id: 'abc', resource: { description: 'Council Tax – £12.34' } }), 'utf8');

  it('signs with lower-case hex HMAC-SHA256 of the raw bytes, as openssl computes it', function () {
    const expected = opensslHmac(body, secret);
    assert.strictEqual(signWebhookBody(body, secret), expected);
    assert.strictEqual(signWebhookBody(body.toString('utf8'), secret), expected, 'a string is signed as its UTF-8 bytes');
    assert.match(expected, /^[0-9a-f]{64}$/);
  });

  it('accepts exactly the right signature', function () {
    assert.strictEqual(verifyWebhookSignature(body, opensslHmac(body, secret), secret), true);
  });

  it('refuses a signature made with another secret', function () {
    assert.strictEqual(verifyWebhookSignature(body, opensslHmac(body, 'another-secret'), secret), false);
  });

  it('refuses a body changed after signing (one byte)', function () {
    const signature = signWebhookBody(body, secret);
    const tampered = Buffer.from(body);
    tampered[tampered.length - 2] ^= 1;
    assert.strictEqual(verifyWebhookSignature(tampered, signature, secret), false);
  });

  it('refuses upper-case hex (the contract says lower-case)', function () {
    const signature = signWebhookBody(body, secret);
    assert.match(signature, /[a-f]/, 'the vector has letters to upper-case');
    assert.strictEqual(verifyWebhookSignature(body, signature.toUpperCase(), secret), false);
  });

  it('refuses a missing, empty, array, short, long, padded or non-hex header without throwing', function () {
    const signature = signWebhookBody(body, secret);
    const bad: (string | string[] | undefined)[] = [
      undefined,
      '',
      [signature],
      [signature, signature],
      signature.slice(0, 62),
      signature + '00',
      ` ${signature}`,
      'sha256=' + signature,
      signature.slice(0, 63) + 'g',
      'zz'.repeat(32),
    ];
    for (const header of bad) assert.strictEqual(verifyWebhookSignature(body, header, secret), false, `header ${JSON.stringify(header)}`);
  });

  it('refuses everything when the configured secret is empty (a missing setting must not accept an empty-key HMAC)', function () {
    assert.strictEqual(verifyWebhookSignature(body, signWebhookBody(body, ''), ''), false);
  });
});
