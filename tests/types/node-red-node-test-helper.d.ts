// node-red-node-test-helper ships no types; the tests use a small part of it.
declare module 'node-red-node-test-helper';
