// `node --import ./test/support/hide-packages.mjs …` makes the packages named in HIDE_PACKAGES (comma-separated)
// unresolvable, as on a machine where npm skipped an optional dependency.
import { register } from 'node:module';

const hidden = (process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean);
register(
  'data:text/javascript,' +
    encodeURIComponent(`
      const hidden = new Set(${JSON.stringify(hidden)});
      export async function resolve(specifier, context, next) {
        if (hidden.has(specifier)) {
          const err = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
          err.code = 'ERR_MODULE_NOT_FOUND';
          throw err;
        }
        return next(specifier, context);
      }
    `),
);
