/**
 * TEST-ONLY: `node --import` this to append every module URL the program loads to the file named by
 * RECORD_LOADS (a module loader hook, node:module register), e.g. to prove help stays light.
 */
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.RECORD_LOADS) appendFileSync(process.env.RECORD_LOADS, url + '\\n');
  return next(url, context);
}`)}`,
);
