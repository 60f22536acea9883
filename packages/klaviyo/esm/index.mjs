// ESM entry: the CommonJS build's named exports, and the strategy class as the default export.
import cjs from '../dist/index.js';

export * from '../dist/index.js';
export default cjs.default;
