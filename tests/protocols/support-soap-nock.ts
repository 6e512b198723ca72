/**
 * nock for the SOAP tests, switched on only while a test needs it.
 *
 * nock 15 intercepts every HTTP connection of the process as soon as it is loaded (its
 * @mswjs/interceptors works at the socket level), which would put a mock between every
 * other test and its real peer; so it is switched off at once here and on only inside
 * the tests that use it (useNock()). Its interceptors also call Promise.withResolvers,
 * which Node 20 lacks (they declare node >= 22): a three-line stand-in keeps them working.
 */
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

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
