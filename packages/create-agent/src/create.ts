/** Writes a new agent project (the work behind `create-igor-agent`). */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { CreateAgentError } from './errors.js'
import { localSpecifiers } from './local.js'
import { AGENT, ASSEMBLY_TSCONFIG, GITIGNORE, IGORD_RANGE, MANIFEST, MANIFEST_DOC, SDK_RANGE, TEST, packageJson, readme } from './template.js'
import type { TemplateValues } from './template.js'

export interface CreateOptions {
  /** The folder to create (must not exist, or be empty). */
  readonly dir: string
  /** A local SDK (tarball or folder) instead of the registry release; written as `file:<path relative to the project>`. */
  readonly sdk?: string
  /**
   * A folder made by `pnpm run pack-all` (tarballs + `tarballs.json`): `@igor/sdk`
   * and `igord` come from there, and npm `overrides` send every other Igor
   * package there too; all as `file:<path relative to the project>`.
   */
  readonly tarballs?: string
  /** Resolve relative paths against this (default: the current directory). */
  readonly cwd?: string
}

export interface Created {
  readonly dir: string
  readonly name: string
  readonly files: readonly string[]
}

/** An npm package name from a folder name: lower case, [a-z0-9-._], no leading dot or underscore. */
export function packageName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').replace(/-+$/, '')
  if (name === '') throw new CreateAgentError('BAD_NAME', `cannot make a package name from ${JSON.stringify(basename(dir))}`)
  return name.slice(0, 214)
}

export function createAgent(options: CreateOptions): Created {
  const cwd = options.cwd ?? process.cwd()
  const dir = resolve(cwd, options.dir)
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new CreateAgentError('TARGET_NOT_EMPTY', `${options.dir} already exists and is not an empty folder`)
  }
  const name = packageName(dir)
  const values: TemplateValues = { name, sdk: SDK_RANGE, igord: IGORD_RANGE, ...localSpecifiers(dir, cwd, options) }
  const files: Record<string, string> = {
    'package.json': packageJson(values),
    'agent.manifest.json': MANIFEST,
    'MANIFEST.md': MANIFEST_DOC,
    'assembly/index.ts': AGENT,
    'assembly/tsconfig.json': ASSEMBLY_TSCONFIG,
    'test/agent.test.ts': TEST,
    'README.md': readme(values),
    '.gitignore': GITIGNORE
  }
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
  }
  return { dir, name, files: Object.keys(files) }
}

export { CreateAgentError }
