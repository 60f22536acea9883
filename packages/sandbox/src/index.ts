/** @passport-martech/sandbox — a local emulator of the passport-martech providers' OAuth dialects (src/providers). */
export { createSandbox, type Sandbox } from './app';
export { startSandbox, type RunningSandbox } from './server';
export { SandboxState } from './state';
export { FAULT_REDIRECT_LOCATION } from './faults';
export { BODY_LIMIT_BYTES } from './body';
export { defaultClient } from './config';
export type { ResolvedClient } from './config';
export * from './types';
export { sandboxEndpoints, sandboxProviders, sandboxVariants, sandboxUserinfoURL, type SandboxVariant } from './endpoints';
export { sandboxFacts, allSandboxFacts, type SandboxProviderFacts, type SandboxVariantFacts } from './facts';
export type { Mark, ClientAuthMethod, PkceMethod } from './dialect';
export { sandboxLogin, type AuthenticatingStrategy, type SandboxLoginOutcome } from './login';
