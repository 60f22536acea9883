// ESM: every strategy's default import must be the very class its named import gives.
import { createRequire } from 'node:module';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import HubSpot, { HubSpotStrategy } from '@passport-martech/hubspot';
import Marketo, { MarketoStrategy } from '@passport-martech/marketo';
import Ontraport, { OntraportStrategy } from '@passport-martech/ontraport';
import CustomerIo, { CustomerIoStrategy } from '@passport-martech/customerio';
import BoomTown, { Strategy as BoomTownStrategy } from '@passport-martech/boomtown';
import helpers from './express-app.cjs';

const pairs = { HubSpot: [HubSpot, HubSpotStrategy], Marketo: [Marketo, MarketoStrategy], Ontraport: [Ontraport, OntraportStrategy], CustomerIo: [CustomerIo, CustomerIoStrategy], BoomTown: [BoomTown, BoomTownStrategy] };
for (const [name, [byDefault, named]] of Object.entries(pairs)) {
  if (typeof byDefault !== 'function' || byDefault !== named) throw new TypeError(`${name}: the default import is not the strategy class`);
}
const requireHere = createRequire(import.meta.url);
if (!requireHere('express/package.json').version.startsWith('5.')) throw new Error('not Express 5');
if (!requireHere('passport/package.json').version.startsWith('0.7.')) throw new Error('not passport 0.7');

helpers.serve({
  express,
  session,
  passport,
  strategies: { hubspot: HubSpot, marketo: Marketo, ontraport: Ontraport, customerio: CustomerIo, boomtown: BoomTown },
});
