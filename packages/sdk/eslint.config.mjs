// The shared root config; the AssemblyScript sources (assembly/, asc-lib/,
// index.ts, exports.ts, host.ts, test/agents/) are not TypeScript for tsc or eslint.
import tseslint from 'typescript-eslint'
import root from '../../eslint.config.js'

export default tseslint.config(
  { ignores: ['assembly/**', 'asc-lib/**', 'index.ts', 'exports.ts', 'host.ts', 'test/agents/**', 'test/build/**', 'dist/**'] },
  ...root
)
