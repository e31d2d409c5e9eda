/**
 * Sessions (per-thread refining), generations, history, members' defaults, and the refine grammar.
 */
export * from './model.js';
export * from './refine.js';
export * from './sessions.js';
