/** @passport-martech/sandbox — a local emulator of five providers' OAuth dialects. */
export { createSandbox, type Sandbox } from './app';
export { startSandbox, type RunningSandbox } from './server';
export { SandboxState } from './state';
export { FAULT_REDIRECT_LOCATION } from './faults';
export { BODY_LIMIT_BYTES } from './body';
export { defaultClient } from './config';
export type { ResolvedClient } from './config';
export * from './types';
