// The shared root config, plus what this package needs: index.js is plain JS
// typed by index.d.ts (TypeScript prefers the .d.ts, so the project service
// cannot type-check the .js), and the AssemblyScript sources are not TypeScript.
import tseslint from 'typescript-eslint'
import root from '../eslint.config.js'

export default tseslint.config(
  { ignores: ['assembly/**', 'demos/**', 'build/**'] },
  ...root,
  { files: ['index.js'], ...tseslint.configs.disableTypeChecked }
)
