import { BoomTownStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default BoomTownStrategy;
