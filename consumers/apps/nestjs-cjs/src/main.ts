import 'reflect-metadata';
import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule } from '@nestjs/passport';
import type { Request } from 'express';
import { HubSpotAuthStrategy, HubSpotParamsStrategy } from './hubspot.strategy';

@Controller('auth')
class AuthController {
  @Get('hubspot')
  @UseGuards(AuthGuard('hubspot'))
  start(): void {
    // The guard redirects to HubSpot.
  }

  // No session: the app would issue its own credential (a JWT) here; this one shows the user.
  @Get('hubspot/callback')
  @UseGuards(AuthGuard('hubspot'))
  callback(@Req() req: Request): { user: unknown } {
    return { user: req.user };
  }

  @Get('hubspot-params')
  @UseGuards(AuthGuard('hubspot-params'))
  startWithParams(): void {
    // The guard redirects to HubSpot.
  }

  @Get('hubspot-params/callback')
  @UseGuards(AuthGuard('hubspot-params'))
  callbackWithParams(@Req() req: Request): { user: unknown } {
    return { user: req.user };
  }
}

@Module({ imports: [PassportModule], controllers: [AuthController], providers: [HubSpotAuthStrategy, HubSpotParamsStrategy] })
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log(`listening on http://127.0.0.1:${process.env.PORT}`);
}

void main();
