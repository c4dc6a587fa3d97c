/**
 * Local Igor packages for a new project (issue 22, SPEC §14): `--sdk` and
 * `--tarballs` become `file:` specifiers relative to the project folder, never
 * absolute, so the project keeps installing when both folders move together.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { CreateAgentError } from './errors.js'

/** The index `pnpm run pack-all` writes beside the tarballs: package name → tarball file name. */
export const TARBALL_INDEX = 'tarballs.json'

export interface LocalSpecifiers {
  readonly sdk?: string
  readonly igord?: string
  readonly overrides?: Readonly<Record<string, string>>
}

/** `file:` + the path of `target` seen from the project folder, with forward slashes. */
export function fileSpecifier(project: string, target: string): string {
  const path = relative(project, target).split(sep).join('/')
  return `file:${path === '' ? '.' : path}`
}

export function localSpecifiers(project: string, cwd: string, options: { readonly sdk?: string, readonly tarballs?: string }): LocalSpecifiers {
  let found: LocalSpecifiers = {}
  if (options.tarballs !== undefined) {
    const folder = resolve(cwd, options.tarballs)
    const indexFile = join(folder, TARBALL_INDEX)
    if (!existsSync(indexFile)) throw new CreateAgentError('TARBALLS_NOT_FOUND', `--tarballs ${options.tarballs}: no ${TARBALL_INDEX} there (make it with pnpm run pack-all)`)
    let index: Record<string, { file?: unknown }>
    try {
      index = JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, { file?: unknown }>
    } catch (error) {
      throw new CreateAgentError('TARBALLS_NOT_FOUND', `--tarballs ${options.tarballs}: ${TARBALL_INDEX} is not JSON (${(error as Error).message})`)
    }
    const overrides: Record<string, string> = {}
    for (const [name, entry] of Object.entries(index)) {
      if (name === '@igor/create-agent' || typeof entry?.file !== 'string') continue
      const tarball = join(folder, entry.file)
      if (!existsSync(tarball)) throw new CreateAgentError('TARBALLS_NOT_FOUND', `--tarballs ${options.tarballs}: ${entry.file} is listed but missing (run pnpm run pack-all again)`)
      overrides[name] = fileSpecifier(project, tarball)
    }
    const sdk = overrides['@igor/sdk']
    const igord = overrides.igord
    if (sdk === undefined || igord === undefined) throw new CreateAgentError('TARBALLS_NOT_FOUND', `--tarballs ${options.tarballs}: ${TARBALL_INDEX} lists no ${sdk === undefined ? '@igor/sdk' : 'igord'} tarball`)
    // npm wants a direct dependency and its override to be the same specifier.
    found = { sdk, igord, overrides }
  }
  if (options.sdk !== undefined) {
    const path = resolve(cwd, options.sdk)
    if (!existsSync(path)) throw new CreateAgentError('SDK_NOT_FOUND', `--sdk ${options.sdk}: no such file or folder`)
    const sdk = fileSpecifier(project, path)
    found = { ...found, sdk, ...(found.overrides !== undefined ? { overrides: { ...found.overrides, '@igor/sdk': sdk } } : {}) }
  }
  return found
}
