// The verifier page in a real headless Chromium (issue 22 item 7): the built
// dist/index.html from a file:// URL, files fed through its inputs, the
// result read back and compared with what `igord verify` prints for the same
// files. Needs Debian's `chromium` (.ci/run installs it): missing in CI is a
// failure; missing elsewhere skips with a message.
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PAGE_URL, findChromium, launch, verifyInPage } from './chromium.js'
import { DID, Epoch, igordHistory, igordHistoryExport, igordVerify, writeChain } from './fixtures.js'

const CHROMIUM = findChromium()
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'

if (CHROMIUM === null && !IN_CI) {
  console.warn('verify-web: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH): the browser tests are skipped')
}

describe.runIf(CHROMIUM === null && IN_CI)('Chromium in CI', () => {
  it('is installed (.ci/run installs Debian\'s chromium)', () => {
    throw new Error('no Chromium found: CI must install it (apt-get install chromium) or set CHROMIUM_PATH')
  })
})

describe.runIf(CHROMIUM !== null)('the verifier page in headless Chromium (SPEC §12)', () => {
  let browser: Browser
  let page: Page
  let tmp: string
  let history: string
  /** The same history in the reference layout (igord history export): one file per tick to pick from. */
  let reference: string

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'verify-web-'))
    browser = await launch(CHROMIUM as string)
    page = await browser.newPage()
    history = await igordHistory(join(tmp, 'node-a'))
    reference = await igordHistoryExport(join(tmp, 'node-a'), join(tmp, 'node-a-reference'))
  })

  afterAll(async () => {
    await browser?.close()
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true })
  })

  it('a history igord wrote: VALID, the same report as igord verify, the DID and a timeline', async () => {
    const expected = await igordVerify([history])
    expect(expected.code).toBe(0)
    const files = (await readdir(reference)).filter((f) => f.endsWith('.ckpt')).map((f) => join(reference, f))
    const { reports, verdicts, text } = await verifyInPage(page, 'files', files)
    expect(reports).toEqual([expected.stdout])
    expect(verdicts).toEqual(['VALID'])
    const did = /^Agent: +(did:key:z6Mk\S+)$/m.exec(expected.stdout)?.[1] as string
    expect(text).toContain(did)
    expect(await page.locator('table.timeline tbody tr').count()).toBe(files.length)
    expect(await page.locator('table.timeline tbody tr').first().textContent()).toMatch(/\(\d+,\d+\)/)
  })

  it('the data directory as a folder: the agent found under checkpoints/history/<id>/, the node named', async () => {
    const expected = await igordVerify([history])
    const { reports, text } = await verifyInPage(page, 'folder', join(tmp, 'node-a'))
    expect(reports).toEqual([expected.stdout])
    expect(text).toContain('Agent counter')
    expect(text).toContain('node-a (node-a/checkpoints/history/counter)')
  })

  it('one byte flipped: INVALID with igord verify\'s lines (INVALID signature, then the broken link)', async () => {
    const damaged = join(tmp, 'damaged')
    await mkdir(damaged)
    const names = (await readdir(reference)).filter((f) => f.endsWith('.ckpt')).sort()
    for (const name of names) await copyFile(join(reference, name), join(damaged, name))
    const victim = names[Math.floor(names.length / 2)] as string
    const bytes = await readFile(join(damaged, victim))
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01 // the last state byte: signed, so the signature fails
    await writeFile(join(damaged, victim), bytes)

    const expected = await igordVerify([damaged])
    expect(expected.code).toBe(1)
    const tick = BigInt(victim.slice(0, 10))
    expect(expected.stdout).toContain(`  - tick ${tick}: INVALID signature\n`)
    const { reports, verdicts } = await verifyInPage(page, 'files', names.map((n) => join(damaged, n)))
    expect(reports).toEqual([expected.stdout])
    expect(verdicts[0]).toMatch(/^INVALID \(\d+ errors\)$/)
  })

  it('a migration across two nodes\' folders: VALID, the same report as igord verify, one hop per node', async () => {
    const root = join(tmp, 'migrated')
    const dirA = join(root, 'node-a', 'checkpoints', 'history', 'agent')
    const dirB = join(root, 'node-b', 'checkpoints', 'history', 'agent')
    const { checkpointContentHash } = await import('@igor/checkpoint-codec')
    const a = await writeChain(dirA, [1n, 2n, 3n], [new Epoch(1n, 0n), new Epoch(1n, 1n), new Epoch(1n, 2n)])
    // The arrival on B checkpoints tick 3 again at (2,0): it takes A's tick 3's place in the chain (SPEC §12).
    await writeChain(dirB, [3n, 4n, 5n], [new Epoch(2n, 0n), new Epoch(2n, 0n), new Epoch(2n, 1n)], checkpointContentHash(a[1] as Uint8Array))

    const expected = await igordVerify([dirA, dirB])
    expect(expected.code).toBe(0)
    const { reports, verdicts, text } = await verifyInPage(page, 'folder', root)
    expect(reports).toEqual([expected.stdout])
    expect(verdicts).toEqual(['VALID'])
    expect(text).toContain(DID)
    expect(text).toContain('epochs (1,0)…(1,1): ticks 1→2 (2 checkpoints) on node-a\n')
    expect(text).toContain('epochs (2,0)…(2,1): ticks 3→5 (3 checkpoints) on node-b\n')
    if (process.env.VERIFY_WEB_SCREENSHOT !== undefined) {
      await page.setViewportSize({ width: 960, height: 800 })
      await page.screenshot({ path: process.env.VERIFY_WEB_SCREENSHOT, fullPage: true })
    }
  })

  it('a fork across two nodes\' folders: named as igord verify names it', async () => {
    const root = join(tmp, 'forked')
    const dirA = join(root, 'A', 'checkpoints', 'history', 'agent')
    const dirB = join(root, 'B', 'checkpoints', 'history', 'agent')
    const a = await writeChain(dirA, [1n, 2n, 3n, 4n], new Epoch(1n, 0n))
    // B goes on from tick 2 as well: two checkpoints with one prevHash, both continued.
    const { checkpointContentHash } = await import('@igor/checkpoint-codec')
    await writeChain(dirB, [3n, 4n, 5n], new Epoch(2n, 0n), checkpointContentHash(a[1] as Uint8Array))

    const expected = await igordVerify([dirA, dirB])
    expect(expected.code).toBe(1)
    expect(expected.stdout).toContain(`  - fork at tick 3: ${dirA}/0000000003.ckpt and ${dirB}/0000000003.ckpt\n`)
    const { reports, verdicts, text } = await verifyInPage(page, 'folder', root)
    // The page names files by their path inside the chosen folder, igord by the path it was given.
    expect(reports).toEqual([expected.stdout.replaceAll(`${tmp}/`, '')])
    expect(verdicts[0]).toMatch(/^INVALID/)
    expect(text).toContain(DID)
    expect(text).toContain('epochs (1,0): ticks 1→2 (2 checkpoints) on A\n')
    expect(text).toContain('epochs (2,0): ticks 3→5 (3 checkpoints) on B\n')
  })

  it('an export file (igord export\'s AgentTransfer JSON): its checkpoint verified, its node named', async () => {
    const names = (await readdir(reference)).filter((f) => f.endsWith('.ckpt')).sort()
    const last = await readFile(join(reference, names[names.length - 1] as string))
    const file = join(tmp, 'counter.export.json')
    await writeFile(file, JSON.stringify({ Package: { AgentID: 'counter', WASMBinary: '', Checkpoint: last.toString('base64'), MajorVersion: 1 }, SourceNodeID: '12D3KooWExampleNode' }))
    const expected = await igordVerify([history])
    // With the history: the export's checkpoint is the history's last one, so the report is unchanged.
    const both = await verifyInPage(page, 'files', [file, ...names.map((n) => join(reference, n))])
    expect(both.reports).toEqual([expected.stdout])
    expect(both.text).toContain('12D3KooWExampleNode (export ')
    // Alone: one signed checkpoint in the middle of its chain — ours (issue 21): a history whose start is
    // missing, with no pruning marker, is not VALID (igord verify says the same).
    const alone = await verifyInPage(page, 'files', file)
    expect(alone.verdicts).toEqual(['INVALID (1 errors)'])
    expect(alone.reports[0]).toContain('Checkpoints:    1\n')
    expect(alone.reports[0]).toMatch(/\n {2}- history incomplete before tick \d+: its first checkpoint continues an earlier one/)
  })

  it('files dropped on the page (drag and drop): the same report', async () => {
    const expected = await igordVerify([history])
    const names = (await readdir(reference)).filter((f) => f.endsWith('.ckpt'))
    const files = await Promise.all(names.map(async (name) => ({ name, bytes: [...await readFile(join(reference, name))] })))
    await page.goto(PAGE_URL)
    const data = await page.evaluateHandle((list) => {
      const transfer = new DataTransfer()
      for (const { name, bytes } of list) transfer.items.add(new File([Uint8Array.from(bytes)], name))
      return transfer
    }, files)
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: data })
    await page.waitForSelector('#status[data-state="done"]')
    expect(await page.locator('pre.report').allTextContents()).toEqual([expected.stdout])
  })

  it('nothing usable: igord verify\'s error line, and the page made no request', async () => {
    const junk = join(tmp, 'notes.txt')
    await writeFile(junk, 'hello')
    const requests: string[] = []
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()) })
    const { text } = await verifyInPage(page, 'files', junk)
    expect(text).toContain('Error: no checkpoint files found')
    expect(text).toContain('1 files not used')
    expect(requests).toEqual([])
  })
})
