import { execFileSync } from 'node:child_process'
import { statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Disk-full tests need root (mount) and tmpfs: a small filesystem that fills for real. */
export const canMount = process.getuid?.() === 0

export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
}

/** Unmounts, waiting a little for files still being let go of (an engine thread closing), then lazily. */
export async function unmountTmpfs(dir: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' })
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  execFileSync('umount', ['-l', dir])
}

/**
 * Fills the filesystem of `dir` with a ballast file, leaving `leaveBytes` free; returns the file,
 * whose removal gives the space back.
 */
export function fillDisk(dir: string, leaveBytes = 0): string {
  const ballast = join(dir, 'ballast')
  const st = statfsSync(dir)
  writeFileSync(ballast, Buffer.alloc(Math.max(0, st.bavail * st.bsize - leaveBytes)))
  return ballast
}
