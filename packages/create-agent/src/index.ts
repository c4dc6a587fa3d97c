export { CreateAgentError, createAgent, packageName } from './create.js'
export type { CreateOptions, Created } from './create.js'
export { ASSEMBLYSCRIPT_RANGE, SDK_RANGE, VITEST_RANGE } from './template.js'
