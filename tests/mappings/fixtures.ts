import fs from 'fs';
import path from 'path';
import { assertSchema, type CanonicalTypes } from '../../adapters/canonical';

/** The repository (this file runs from dist/tests/mappings). */
export const REPO = path.resolve(__dirname, '../../..');
export const MAPPINGS = path.join(REPO, 'mappings');
export const FIXTURES = path.join(MAPPINGS, 'fixtures');

/** A file of mappings/fixtures as it is, e.g. readFixture('case-to-crm/no-case-ref.input.json'). */
export function readFixture(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
}

/**
 * A fixture file as the canonical type of a schema: checked against that schema first, so a
 * fixture that stops matching its type fails the test that reads it.
 */
export function fixture<N extends keyof CanonicalTypes>(schema: N, file: string): CanonicalTypes[N] {
  return assertSchema<CanonicalTypes[N]>(schema, readFixture(file));
}
