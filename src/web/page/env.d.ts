// Vite bundles the stylesheet that main.ts imports.
declare module '*.css';
