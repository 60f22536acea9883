'use strict';
/**
 * Rewrites of esbuild's CommonJS output that scripts/bundle.js applies to each bundle it writes, and the
 * source check one of them relies on. Each keeps the bundle's line numbers, so its source map stays right.
 */
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** Every .ts file under `dir`. */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Whether a source exports a top-level `let` or `var` (`export let x` or `let x; export { x }`). */
function exportsMutableBinding(file) {
  const code = readFileSync(file, 'utf8');
  if (/^export (let|var) /m.test(code)) return true;
  const mutable = new Set([...code.matchAll(/^(?:let|var) (\w+)/gm)].map((match) => match[1]));
  const exported = [...code.matchAll(/^export \{([^}]*)\}/gm)].flatMap((match) => match[1].split(',').map((name) => name.trim().split(/\s+/)[0]));
  return exported.some((name) => mutable.has(name));
}

/** esbuild's name for the function that runs a wrapped module on first call, e.g. `require_login_requests`. */
function loaderOf(module) {
  return `require_${module.replace(/-/g, '_')}`;
}

/**
 * esbuild imports a wrapped module at the top of the bundle that imports it (`var import_x =
 * __toESM(require_<module>())`): in the kit, a lazy chunk would then load with the kit; in a chunk, a
 * module handed over by the kit would be read when the chunk loads (the MCP chunk would load the login
 * chunk with it). Instead each read of one of its names calls esbuild's wrapper where the name is read
 * (`import_x.name` becomes `(require_<module>()).name`): the first call runs the module, later ones return
 * its exports. So a require() makes no object, getter or closure per such name, and loads nothing it
 * does not read. The only other use allowed is the kit's hand-over getter (`get "<module>"() { return
 * import_x; }`, shareWithChunks in bundle.js); a `default` read, a module passed around or an import in another form
 * fails the build. Nothing may read these names while the module that defines them is loading (a chunk's
 * own load calling back into kit code that reads the chunk's names would find none); nothing does.
 * Lines do not move (an import's line is left empty); on a line that reads such a name, the columns after
 * it move by a few characters.
 */
function readModulesAtUse(file, modules) {
  let code = readFileSync(file, 'utf8');
  for (const module of modules) {
    const load = loaderOf(module);
    const sites = new RegExp(`^var (\\w+) = __toESM\\(${load}\\(\\)\\);$`, 'gm');
    const variables = [...code.matchAll(sites)].map((site) => site[1]);
    code = code.replace(sites, '');
    for (const variable of variables) {
      code = code.replace(new RegExp(`(return )?\\b${variable}\\b(\\.default\\b|\\.[\\w$]+|;\\s*\\})?`, 'g'), (use, returned, after, offset) => {
        const returnsModule = after !== undefined && after.startsWith(';');
        const handOver = returnsModule && returned !== undefined && /get "[\w-]+"\(\) \{\s*$/.test(code.slice(Math.max(0, offset - 40), offset));
        if (after === undefined || after === '.default' || (returnsModule && !handOver)) {
          throw new Error(`${file}: ${variable} (${module}) is used other than by reading a name: ${use}`);
        }
        // Parenthesized: `new import_x.Name()` must stay `new (require_x()).Name()`.
        return use.replace(variable, `(${load}())`);
      });
    }
    if (new RegExp(`__toESM\\(${load}\\(|^var \\w+ = ${load}\\(\\);$`, 'm').test(code)) {
      throw new Error(`${file}: an import of ${module} in a form readModulesAtUse does not rewrite (it would run at load)`);
    }
  }
  writeFileSync(file, code);
}

/**
 * esbuild's CommonJS output copies the module's export getters onto a second object
 * (`module.exports = __toCommonJS(index_exports)`): one more getter per export, made at every load. The
 * export object itself is handed out instead, marked `__esModule` as the copy was (same names, same live
 * getters; the line numbers, and so the source map, do not change).
 */
function exportInPlace(file) {
  const code = readFileSync(file, 'utf8');
  const copy = /^module\.exports = __toCommonJS\((\w+)\);$/m;
  const match = copy.exec(code);
  if (!match || code.split('__toCommonJS(').length !== 2) throw new Error(`${file}: esbuild's export block is not the one expected`);
  writeFileSync(file, code.replace(copy, `__defProp(${match[1]}, "__esModule", { value: true }); module.exports = ${match[1]};`));
}

/**
 * esbuild's CommonJS output defines every export as a getter (`__export(x_exports, { name: () => name })`):
 * a closure and a property definition per name when the bundle loads, and a call at every later read of
 * the name through the module (a strategy reads the kit's names that way). A name the bundle defines
 * itself (a class, function or constant: no source exports a `let`, which bundle() checks) is defined as a
 * read-only value instead (as read-only as the getter was), on the same object, once the bundle's own code
 * has run. A name read from another module (`() => import_x.name`, a re-export) keeps its getter, so a
 * lazy chunk still loads only on first use. Defined, not assigned: past a dozen names, V8 turns an object
 * that gets properties by assignment (`Object.assign`) into a hash table, and every read of a name from it
 * into a lookup (`%HasFastProperties`, Node 20). Lines do not move: the getters' lines are left empty, the
 * definitions follow the last mapped line.
 */
function exportOwnNamesAsValues(file) {
  let code = readFileSync(file, 'utf8');
  // Values defined at the end are there only once the bundle has run: nothing may read a module's exports
  // while it loads. esbuild's lazily initialised ESM modules (`__esm`) would; none are emitted today.
  if (code.includes('__esm(')) throw new Error(`${file}: esbuild emitted a lazily initialised module (__esm); exportOwnNamesAsValues assumes none`);
  const assignments = [];
  code = code.replace(/^__export\((\w+), \{\n([\s\S]*?)\n\}\);$/gm, (block, target, body) => {
    const values = [];
    const getters = [];
    for (const entry of body.split('\n').map((line) => line.trim().replace(/,$/, ''))) {
      const own = /^("?[\w$]+"?): \(\) => ([\w$]+)$/.exec(entry);
      if (own) values.push(own[1] === own[2] ? own[1] : `${own[1]}: ${own[2]}`);
      else getters.push(entry);
    }
    if (values.length > 0) assignments.push(`__exportValues(${target}, { ${values.join(', ')} });`);
    const kept = getters.length > 0 ? `__export(${target}, { ${getters.join(', ')} });` : '';
    return kept + '\n'.repeat(block.split('\n').length - 1);
  });
  const mapComment = /^\/\/# sourceMappingURL=.*$/m.exec(code);
  if (!mapComment) throw new Error(`${file}: no source map comment`);
  if (assignments.length === 0) return;
  const helper = 'var __exportValues = (target, all) => {\n  for (var name in all) __defProp(target, name, { value: all[name], enumerable: true });\n};';
  writeFileSync(file, `${code.slice(0, mapComment.index)}${helper}\n${assignments.join('\n')}\n${code.slice(mapComment.index)}`);
}

module.exports = { exportInPlace, exportOwnNamesAsValues, exportsMutableBinding, readModulesAtUse, sourceFiles };
