// ESM entry: the CommonJS build's named exports, and the ready TokenRefresher instance as the default
// export (the very object `require('@passport-martech/refresh')` returns).
import refresh from '../dist/index.js';

export * from '../dist/index.js';
export default refresh;
