export * from './extract';
export * from './free-text';
export * from './gazetteer';
export * from './address-book';
export * from './dtf';
