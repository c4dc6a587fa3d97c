// Finds the machine's Chromium (Debian's `chromium` package; CI installs it in
// .ci/run) and opens the built page in it, headless, through playwright-core.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'

export const PAGE_URL = new URL('../dist/index.html', import.meta.url).href
export const PAGE_FILE = fileURLToPath(PAGE_URL)

/** `CHROMIUM_PATH`, Debian's binary, or `chromium` on the PATH; null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium']
  for (const path of candidates) if (path !== undefined && path !== '' && existsSync(path)) return path
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim()
      if (found !== '') return found
    } catch {
      // not on the PATH
    }
  }
  return null
}

export async function launch(executablePath: string): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

/** Opens the page, feeds `paths` to the input `#<input>` (`files`: files; `folder`: one folder), waits for the result. */
export async function verifyInPage(page: Page, input: 'files' | 'folder', paths: string | string[]): Promise<{ reports: string[], verdicts: string[], text: string }> {
  await page.goto(PAGE_URL)
  await page.setInputFiles(`#${input}`, paths)
  await page.waitForSelector('#status[data-state="done"]')
  const reports = await page.locator('pre.report').allTextContents()
  const verdicts = await page.locator('.verdict').allTextContents()
  const text = await page.locator('#result').innerText()
  return { reports, verdicts, text }
}
