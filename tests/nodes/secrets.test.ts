import assert from 'assert';
import { secret } from '../../nodes/secrets';

describe('config node secrets', () => {
  it('prefers the stored credential, else the named environment variable, else nothing', () => {
    const env = { PLANNING_PASSWORD: 'from-env' };
    assert.strictEqual(secret('stored', 'PLANNING_PASSWORD', env), 'stored');
    assert.strictEqual(secret('', 'PLANNING_PASSWORD', env), 'from-env');
    assert.strictEqual(secret(undefined, ' PLANNING_PASSWORD ', env), 'from-env');
    assert.strictEqual(secret(undefined, 'UNSET_VARIABLE', env), undefined);
    assert.strictEqual(secret(undefined, '', env), undefined);
  });
});
