// The Node side of @igor/sdk: the build preset. The test host is `@igor/sdk/test-host`.
export { ABI_EXPORTS, BuildError, SDK_DIR, buildAgent, checkModule, presetFlags } from './build.js'
export type { BuildOptions, BuildResult } from './build.js'
