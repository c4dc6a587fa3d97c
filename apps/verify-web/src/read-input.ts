// Files from the page's inputs and from a drop, folders walked, as InputFiles.
// Everything is read here, in the page: nothing is sent anywhere.
import type { InputFile } from './sources.js'

async function bytesOf(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer())
}

/** A file input's files; a folder input gives each file's path inside the folder (`webkitRelativePath`). */
export async function fromFileList(list: FileList): Promise<InputFile[]> {
  return await Promise.all([...list].map(async (file) => ({ path: file.webkitRelativePath !== '' ? file.webkitRelativePath : file.name, bytes: await bytesOf(file) })))
}

function entries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader()
  const all: FileSystemEntry[] = []
  return new Promise((resolve, reject) => {
    // readEntries answers in batches until an empty one.
    const next = (): void => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(all)
      else {
        all.push(...batch)
        next()
      }
    }, reject)
    next()
  })
}

async function walk(entry: FileSystemEntry, out: InputFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), bytes: await bytesOf(file) })
  } else if (entry.isDirectory) {
    for (const child of await entries(entry as FileSystemDirectoryEntry)) await walk(child, out)
  }
}

/** What was dropped: files, and folders read through (their paths kept, from the dropped folder's name down). */
export async function fromDrop(data: DataTransfer): Promise<InputFile[]> {
  const out: InputFile[] = []
  const items = [...data.items].filter((item) => item.kind === 'file')
  const roots = items.map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null))
  if (roots.length > 0 && roots.every((entry) => entry !== null)) {
    for (const entry of roots) await walk(entry, out)
    return out
  }
  return await fromFileList(data.files)
}
