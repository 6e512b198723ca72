/**
 * nock for the SOAP tests, switched on only while a test needs it.
 *
 * nock (14, the last line that supports Node 20) intercepts every HTTP connection of the
 * process as soon as it is loaded (its @mswjs/interceptors work at the socket level), which
 * would put a mock between every other test and its real peer; so it is switched off at
 * once here and on only inside the tests that use it (useNock()).
 */
import nock from 'nock';

nock.restore();

/** Activates nock for the enclosing describe block, and restores real HTTP after it. */
export function useNock(): typeof nock {
  before(() => {
    if (!nock.isActive()) nock.activate();
  });
  afterEach(() => {
    nock.cleanAll();
  });
  after(() => {
    nock.cleanAll();
    nock.restore();
  });
  return nock;
}
