// The page: choose or drop files, get `igord verify`'s report (SPEC §12), the
// DID and a timeline. Runs wholly in the page; no request leaves it (its CSP
// has connect-src 'none').
import { fromDrop, fromFileList } from './read-input.js'
import { renderResult } from './render.js'
import { collect } from './sources.js'
import type { InputFile } from './sources.js'

const status = document.getElementById('status') as HTMLElement
const result = document.getElementById('result') as HTMLElement
const drop = document.getElementById('drop') as HTMLElement

async function run(read: () => Promise<InputFile[]>): Promise<void> {
  status.dataset.state = 'working'
  status.textContent = 'Reading…'
  try {
    const inputs = await read()
    status.textContent = `Verifying ${inputs.length} files…`
    // Let the status paint before the (synchronous) verification.
    await new Promise((resolve) => setTimeout(resolve, 0))
    renderResult(result, collect(inputs))
    status.textContent = `Verified ${inputs.length} files, in this page.`
  } catch (error) {
    result.replaceChildren()
    status.textContent = `Error: ${error instanceof Error ? error.message : String(error)}`
  }
  status.dataset.state = 'done'
}

for (const id of ['files', 'folder']) {
  const input = document.getElementById(id) as HTMLInputElement
  input.addEventListener('change', () => {
    const list = input.files
    if (list !== null && list.length > 0) void run(() => fromFileList(list)).then(() => { input.value = '' })
  })
}

drop.addEventListener('dragover', (event) => {
  event.preventDefault()
  drop.classList.add('over')
})
drop.addEventListener('dragleave', () => drop.classList.remove('over'))
drop.addEventListener('drop', (event) => {
  event.preventDefault()
  drop.classList.remove('over')
  const data = event.dataTransfer
  if (data !== null) void run(() => fromDrop(data))
})
