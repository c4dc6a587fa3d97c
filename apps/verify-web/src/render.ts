// The result on the page. Built with textContent only: file names and contents
// are untrusted input, never parsed as HTML.
import { renderLineageReport, verifyHistories } from '@igor/inspector/browser'
import type { AgentHistory, Collected } from './sources.js'
import { timeline, whereOf } from './timeline.js'

const MAX_ROWS = 2000

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string, text?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (props.className !== undefined) node.className = props.className
  if (props.text !== undefined) node.textContent = props.text
  node.append(...children)
  return node
}

function row(cells: readonly string[], header = false): HTMLTableRowElement {
  return el('tr', {}, ...cells.map((text) => el(header ? 'th' : 'td', { text })))
}

function agentSection(agent: AgentHistory): HTMLElement {
  // Ours (issue 21): a pruning marker in any directory may cover a history's missing start, as in igord verify.
  const anchors = agent.sources.map((s) => s.prunedAnchor).filter((a): a is bigint => a !== undefined)
  const prunedAnchor = anchors.length === 0 ? null : anchors.reduce((a, b) => (a > b ? a : b))
  const result = verifyHistories(agent.sources.map((s) => s.files), { prunedAnchor })
  const report = renderLineageReport(result)
  const section = el('section', { className: 'agent' })
  section.dataset.valid = String(result.valid)
  section.append(
    el('h2', { text: agent.agentId === null ? 'Agent history' : `Agent ${agent.agentId}` }),
    el('p', { className: `verdict ${result.valid ? 'valid' : 'invalid'}`, text: result.valid ? 'VALID' : `INVALID (${result.errors.length} errors)` })
  )
  const facts = el('dl')
  const fact = (name: string, value: string, className?: string): void => {
    facts.append(el('dt', { text: name }), el('dd', className === undefined ? { text: value } : { text: value, className }))
  }
  fact('DID', result.agentDid ?? '(first checkpoint is not v0x04: no identity)', 'did')
  fact('Checkpoints', `${result.checkpoints}, ticks ${result.firstTick} → ${result.lastTick}`)
  fact('Read from', agent.sources.map(whereOf).join(', '))
  section.append(facts)

  section.append(el('h3', { text: 'igord verify' }), el('pre', { className: 'report', text: report }))

  const { rows, hops } = timeline(agent.sources)
  section.append(el('h3', { text: 'Timeline' }))
  section.append(el('ol', { className: 'hops' }, ...hops.map((hop) => el('li', {
    text: `epochs ${hop.firstEpoch === hop.lastEpoch ? hop.firstEpoch : `${hop.firstEpoch}…${hop.lastEpoch}`}: ticks ${hop.firstTick}→${hop.lastTick} (${hop.count} checkpoints) on ${hop.where.join(', ')}`
  }))))
  const table = el('table', { className: 'timeline' }, el('thead', {}, row(['tick', 'epoch', 'node', 'file', 'also in'], true)))
  const body = el('tbody')
  for (const r of rows.slice(0, MAX_ROWS)) {
    body.append(row([r.tick?.toString() ?? '?', r.epoch ?? '(unreadable)', r.where, r.name, r.alsoIn.join(', ')]))
  }
  table.append(body)
  section.append(table)
  if (rows.length > MAX_ROWS) section.append(el('p', { text: `… and ${rows.length - MAX_ROWS} more checkpoints (the report above covers all of them)` }))
  return section
}

/** Replaces `target`'s content with one section per agent (or the error line `igord verify` prints). */
export function renderResult(target: HTMLElement, collected: Collected): void {
  target.replaceChildren()
  if (collected.agents.length === 0) {
    target.append(el('p', { className: 'error', text: 'Error: no checkpoint files found' }))
  }
  for (const agent of collected.agents) target.append(agentSection(agent))
  if (collected.skipped.length > 0) {
    const list = el('ul', {}, ...collected.skipped.slice(0, 50).map((line) => el('li', { text: line })))
    const more = collected.skipped.length > 50 ? [el('p', { text: `… and ${collected.skipped.length - 50} more` })] : []
    target.append(el('details', { className: 'skipped' }, el('summary', { text: `${collected.skipped.length} files not used` }), list, ...more))
  }
}
