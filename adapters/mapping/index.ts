export * from './library';
export * from './functions';
export { runFixtures, formatFixtureReport } from './run-fixtures';
export type { FixtureResult, FixtureRunSummary } from './run-fixtures';
