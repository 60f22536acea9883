// CommonJS, as the READMEs show it: destructured named exports, require(...).Strategy, .default, and the
// module itself (a strategy package's module is its class, as passport-oauth2's is).
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const { MarketoStrategy } = require('@passport-martech/marketo');
const OntraportStrategy = require('@passport-martech/ontraport').Strategy;
const CustomerIoStrategy = require('@passport-martech/customerio');
const BoomTownStrategy = require('@passport-martech/boomtown').default;
const { serve } = require('./express-app.cjs');

if (CustomerIoStrategy !== require('@passport-martech/customerio').CustomerIoStrategy) throw new Error('the module is not the strategy class');
if (!require('express/package.json').version.startsWith('4.')) throw new Error('not Express 4');
if (!require('passport/package.json').version.startsWith('0.6.')) throw new Error('not passport 0.6');

serve({
  express,
  session,
  passport,
  strategies: { hubspot: HubSpotStrategy, marketo: MarketoStrategy, ontraport: OntraportStrategy, customerio: CustomerIoStrategy, boomtown: BoomTownStrategy },
});
