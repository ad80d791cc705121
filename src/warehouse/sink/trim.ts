import { join } from 'node:path'
import { TMP_EXT, partFileName } from '../layout.ts'
import { publish, removeFiles, type PartFile } from './files.ts'
import type { ParquetWriter } from './parquet-writer.ts'
import { literal } from './sql.ts'

/**
 * Rewrites a part file keeping only rows at offsets ≤ newLast, under the name of the shorter range,
 * then removes the original. Used when a file reaches past the committed offset: its tail belongs to a
 * flush that will be replayed. A file with nothing left is simply removed.
 */
export async function trimPart(writer: ParquetWriter, file: PartFile, newLast: number): Promise<void> {
  if (newLast < file.first) {
    await removeFiles([file.path])
    return
  }
  const path = join(file.dir, partFileName(file.partition, file.first, newLast))
  const tmp = path + TMP_EXT
  await writer.run(`COPY (SELECT * FROM read_parquet(${literal(file.path)}, hive_partitioning = false) WHERE "offset" <= ${newLast} ORDER BY "offset") TO ${literal(tmp)} (FORMAT parquet)`)
  await publish([{ tmp, path, dir: file.dir }])
  await removeFiles([file.path])
}
