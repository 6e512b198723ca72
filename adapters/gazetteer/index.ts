export * from './extract';
export * from './free-text';
export * from './gazetteer';
