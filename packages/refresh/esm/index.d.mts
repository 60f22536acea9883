import type { TokenRefresher } from '../dist/index.js';

export * from '../dist/index.js';
declare const refresh: TokenRefresher;
export default refresh;
