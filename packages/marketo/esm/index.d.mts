import { MarketoStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default MarketoStrategy;
