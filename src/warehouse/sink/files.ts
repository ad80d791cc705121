import { closeSync, openSync, writeSync } from 'node:fs'
import { open, readdir, rename, rm, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { EVENTS_DIR, TMP_EXT, parseDtDir, parseEventDir, parsePartFileName, type PartRange } from '../layout.ts'

export interface PartFile extends PartRange {
  dt: string
  event: string
  dir: string
  name: string
  path: string
}

/** Every events part file under the root (temp files excluded), and the temp files left by a crash. */
export async function listPartFiles(root: string): Promise<{ parts: PartFile[]; temps: string[] }> {
  return listPartFilesUnder(join(root, EVENTS_DIR))
}

/**
 * Every part file at any depth under `base` (a topic's directory), and the temp files left by a
 * crash. `dt` and `event` come from `dt=`/`event=` directories on the way ('' where there is none).
 */
export async function listPartFilesUnder(base: string): Promise<{ parts: PartFile[]; temps: string[] }> {
  const parts: PartFile[] = []
  const temps: string[] = []
  const walk = async (dir: string, dt: string, event: string): Promise<void> => {
    for (const name of await dirNames(dir)) {
      await walk(join(dir, name), parseDtDir(name) ?? dt, parseEventDir(name) ?? event)
    }
    for (const name of await fileNames(dir)) {
      const path = join(dir, name)
      if (name.endsWith(TMP_EXT)) temps.push(path)
      const range = parsePartFileName(name)
      if (range) parts.push({ ...range, dt, event, dir, name, path })
    }
  }
  await walk(base, '', '')
  return { parts, temps }
}

export async function dirNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

export async function fileNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => d.name)
      .sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** fsyncs a file or directory, so a rename or unlink survives a power cut, not only a process crash. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Writes a file from pieces, in order (no concatenated copy); publish() fsyncs it. */
export function writePieces(path: string, pieces: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w')
  try {
    for (const piece of pieces) {
      for (let done = 0; done < piece.length;) done += writeSync(fd, piece, done, piece.length - done)
    }
  } finally {
    closeSync(fd)
  }
}

/** Moves written temp files into place (each rename is atomic), then syncs their directories. */
export async function publish(moves: ReadonlyArray<{ tmp: string; path: string; dir: string }>): Promise<void> {
  // Side by side: the disk sees the files' writes together instead of one flush after another.
  await Promise.all(moves.map((m) => fsyncPath(m.tmp)))
  for (const m of moves) await rename(m.tmp, m.path)
  for (const dir of new Set(moves.map((m) => m.dir))) await fsyncPath(dir)
}

export async function removeFiles(paths: readonly string[]): Promise<void> {
  for (const p of paths)
    await unlink(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
}
