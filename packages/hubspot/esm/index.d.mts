import { HubSpotStrategy } from '../dist/index.js';

export * from '../dist/index.js';
export default HubSpotStrategy;
