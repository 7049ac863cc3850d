/** Stamped by scripts/build (esbuild --define); "dev" when run from source. */
declare const __PLUGIN_VERSION__: string | undefined;
declare const __GIT_COMMIT__: string | undefined;

export const buildInfo = {
  version: typeof __PLUGIN_VERSION__ === 'string' ? __PLUGIN_VERSION__ : 'dev',
  gitCommit: typeof __GIT_COMMIT__ === 'string' ? __GIT_COMMIT__ : 'unknown',
};
