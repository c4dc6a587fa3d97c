#!/usr/bin/env node
// Builds the verifier as ONE self-contained file, dist/index.html: the page, its
// style and the bundled script inline, so it opens from file:// (no module
// script, no fetch) and can be saved and used offline. esbuild bundles for the
// browser platform, so any node: import on the verify path fails the build.
// A Content-Security-Policy with the hashes of the inline script and style, and
// `connect-src 'none'`, lets the page make no network request at all.
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

const result = await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // BigInt, TextDecoder, File.arrayBuffer: every current browser.
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'warning'
})
const script = result.outputFiles[0].text
if (/<\/script/i.test(script)) throw new Error('the bundle contains "</script", which would end the inline script')

const template = await readFile(join(root, 'src', 'index.html'), 'utf8')
const style = await readFile(join(root, 'src', 'style.css'), 'utf8')
const hash = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
const csp = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
  'img-src data:',
  "connect-src 'none'",
  "form-action 'none'",
  "base-uri 'none'"
].join('; ')
const html = template
  .replace('<!--CSP-->', `<meta http-equiv="Content-Security-Policy" content="${csp}">`)
  .replace('<!--STYLE-->', () => `<style>${style}</style>`)
  .replace('<!--SCRIPT-->', () => `<script>${script}</script>`)

await rm(dist, { recursive: true, force: true })
await mkdir(dist, { recursive: true })
await writeFile(join(dist, 'index.html'), html)
process.stderr.write(`verify-web: dist/index.html (${Math.round(html.length / 1024)} KiB)\n`)
