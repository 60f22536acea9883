import { CustomerIoStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default CustomerIoStrategy;
