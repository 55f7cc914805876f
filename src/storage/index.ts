// Public surface of the relational store (DATABASE_URL): one import for the wiring code.
export * from './database.js';
export * from './migrations.js';
export * from './registry.js';
export * from './seed.js';
export * from './dead-letters.js';
export * from './unknown-devices.js';
