import { OntraportStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default OntraportStrategy;
