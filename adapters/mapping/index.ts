export * from './library';
export * from './functions';
export { runFixtures, formatFixtureReport } from './run-fixtures';
export type { FixtureResult, FixtureRunSummary } from './run-fixtures';
export { CompiledExpression, CompileError, compileJsonata, generateSource } from './compiler';
export type { CompiledFunction, EvaluationCounts } from './compiler';
