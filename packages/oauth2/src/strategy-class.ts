import { ProviderDefinition, ProviderStrategy, RegistrableStrategyOptions } from './strategy';
import type { AnyVerifyFunction, VerifyFunction, VerifyFunctionWithParams, VerifyFunctionWithRequest, VerifyFunctionWithRequestAndParams, WithRequest, WithoutRequest } from './verify';

/**
 * The constructor every provider strategy has: `new XStrategy(options, verify)`, the verify callback's
 * parameters typed from `passReqToCallback` and the provider's profile type.
 */
export interface StrategyConstructor<TOptions extends RegistrableStrategyOptions, TProfile> {
  new (options: TOptions & WithoutRequest, verify: VerifyFunction<TProfile>): ProviderStrategy<TOptions>;
  new (options: TOptions & WithoutRequest, verify: VerifyFunctionWithParams<TProfile>): ProviderStrategy<TOptions>;
  new (options: TOptions & WithRequest, verify: VerifyFunctionWithRequest<TProfile>): ProviderStrategy<TOptions>;
  new (options: TOptions & WithRequest, verify: VerifyFunctionWithRequestAndParams<TProfile>): ProviderStrategy<TOptions>;
  // Options typed as the wide interface (passReqToCallback?: boolean): the verify parameters are annotated.
  new (options: TOptions, verify: AnyVerifyFunction<TProfile>): ProviderStrategy<TOptions>;
  readonly prototype: ProviderStrategy<TOptions>;
}

/**
 * The base class of one provider's strategy: `class XStrategy extends providerStrategy<XOptions,
 * XProfile>(PACKAGE, xDefinition) { ... }`. Its constructor refuses a missing options object with the
 * package's TypeError ("options object is required") before `definition(options)` runs, then builds the
 * ProviderStrategy from the definition. The subclass adds properties (field initializers may read
 * `this.options`) and overrides hooks; it declares no constructor, so it keeps these signatures.
 */
export function providerStrategy<TOptions extends RegistrableStrategyOptions, TProfile>(
  packageName: string,
  definition: (options: TOptions) => ProviderDefinition,
): StrategyConstructor<TOptions, TProfile> {
  return class extends ProviderStrategy<TOptions> {
    constructor(options: TOptions, verify: AnyVerifyFunction<TProfile>) {
      if (!options || typeof options !== 'object') throw new TypeError(`${packageName}: options object is required`);
      super(definition(options), options, verify);
    }
  };
}
