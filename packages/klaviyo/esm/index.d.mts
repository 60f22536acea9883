import { KlaviyoStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default KlaviyoStrategy;
