/** Writes a new agent project (the work behind `create-igor-agent`). */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { AGENT, ASSEMBLY_TSCONFIG, GITIGNORE, MANIFEST, SDK_RANGE, TEST, packageJson, readme } from './template.js'

/** Expected failures: a one-line message and a stable code. */
export class CreateAgentError extends Error {
  readonly code: 'TARGET_NOT_EMPTY' | 'SDK_NOT_FOUND' | 'BAD_NAME'
  constructor(code: CreateAgentError['code'], message: string) {
    super(message)
    this.name = 'CreateAgentError'
    this.code = code
  }
}

export interface CreateOptions {
  /** The folder to create (must not exist, or be empty). */
  readonly dir: string
  /** A local SDK (tarball or folder) instead of the registry release; written as `file:<absolute path>`. */
  readonly sdk?: string
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
  let sdk = SDK_RANGE
  if (options.sdk !== undefined) {
    const path = resolve(cwd, options.sdk)
    if (!existsSync(path)) throw new CreateAgentError('SDK_NOT_FOUND', `--sdk ${options.sdk}: no such file or folder`)
    sdk = `file:${path}`
  }
  const name = packageName(dir)
  const files: Record<string, string> = {
    'package.json': packageJson({ name, sdk }),
    'agent.manifest.json': MANIFEST,
    'assembly/index.ts': AGENT,
    'assembly/tsconfig.json': ASSEMBLY_TSCONFIG,
    'test/agent.test.ts': TEST,
    'README.md': readme({ name, sdk }),
    '.gitignore': GITIGNORE
  }
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
  }
  return { dir, name, files: Object.keys(files) }
}
