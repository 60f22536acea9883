// The matrix, one line per app. `from`: the template folder under apps/ (default: the name);
// `dependencies`: versions that replace the template's; `snippets`: write the READMEs' ts blocks;
// `nestSnippet`: write the hubspot README's NestJS block into the app's src/.
export const APPS = [
  { name: 'express4-cjs', what: 'Express 4 + passport 0.6, CommonJS, login with all five strategies' },
  { name: 'express5-esm', what: 'Express 5 + passport 0.7, ESM default and named imports, login with all five' },
  { name: 'nestjs-cjs', nestSnippet: true, what: 'NestJS 11 + @nestjs/passport, CommonJS, tsc: validate arguments, session-less login with the cookie state store' },
  { name: 'refresh-ioredis5', from: 'refresh-redis', dependencies: { ioredis: '^5.4.0' }, what: 'refresh with ioredis 5 against redis-server' },
  { name: 'refresh-ioredis6', from: 'refresh-redis', dependencies: { ioredis: '^6.0.0' }, what: 'refresh with ioredis 6 against redis-server' },
  { name: 'ts-nodenext', snippets: { extension: 'mts' }, what: 'TypeScript strict, module nodenext, skipLibCheck false, every README snippet' },
  { name: 'ts-bundler', snippets: {}, what: 'TypeScript strict, moduleResolution bundler, skipLibCheck false, every README snippet' },
  { name: 'ts-strategy-only', what: 'TypeScript strict with a strategy and refresh installed and nothing else' },
  { name: 'package-lint', tarballs: true, what: 'publint and are-the-types-wrong on every tarball: zero problems' },
];
