import { isUtf8 } from 'node:buffer'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { failure, type RequestFailure } from './failure.ts'

/*
 * Reading a collector request body: media type and encoding checks before a byte is read, a size
 * limit while reading, gunzip with a limit on the decompressed size (a 200 KB zip bomb must not become
 * 200 MB of memory), and a strict UTF-8 check. Each step returns the bytes or a precise failure.
 */

export type BodyFormat = 'json' | 'ndjson'
export type BodyEncoding = 'identity' | 'gzip'

export const JSON_TYPES = ['application/json'] as const
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'] as const

const gunzipAsync = promisify(gunzip)

/** The body format named by a Content-Type header, or 415 naming the types this route accepts. */
export function mediaFormat(header: string | undefined, allowNdjson: boolean): BodyFormat | RequestFailure {
  const accepted = allowNdjson ? [...JSON_TYPES, ...NDJSON_TYPES] : [...JSON_TYPES]
  const list = accepted.join(', ')
  if (header === undefined || header.trim() === '') {
    return failure(415, 'unsupported_media_type', `missing Content-Type; send one of: ${list}`)
  }
  const semi = header.indexOf(';')
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase()
  let format: BodyFormat | null = null
  if ((JSON_TYPES as readonly string[]).includes(type)) format = 'json'
  else if (allowNdjson && (NDJSON_TYPES as readonly string[]).includes(type)) format = 'ndjson'
  if (format === null) return failure(415, 'unsupported_media_type', `Content-Type "${type.slice(0, 100)}" is not accepted; send one of: ${list}`)
  if (semi !== -1) {
    const charset = /(?:^|;)\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(header.slice(semi))
    if (charset && !/^utf-?8$/i.test(charset[1]!)) {
      return failure(415, 'unsupported_media_type', `charset "${charset[1]!.slice(0, 40)}" is not accepted; bodies are UTF-8`)
    }
  }
  return format
}

/** The Content-Encoding of a request: none, gzip, or 415. */
export function contentEncoding(header: string | undefined): BodyEncoding | RequestFailure {
  if (header === undefined) return 'identity'
  const value = header.trim().toLowerCase()
  if (value === '' || value === 'identity') return 'identity'
  if (value === 'gzip' || value === 'x-gzip') return 'gzip'
  return failure(415, 'unsupported_encoding', `Content-Encoding "${header.slice(0, 100)}" is not accepted; send gzip or no encoding`)
}

export function tooLarge(limit: number): RequestFailure {
  return failure(413, 'payload_too_large', `request body is larger than ${limit} bytes (the limit applies after gunzip); split it into smaller batches`)
}

/** A request body as a stream, with its declared length (an HTTP request is one; so is a test's stream). */
export type BodySource = Readable & { readonly headers: { readonly 'content-length'?: string } }

export interface ReadOptions {
  /**
   * Called before bytes beyond the declared Content-Length (all of a chunked body) are kept, with
   * the total that would be held: the in-flight budget grows as the body arrives. A refusal stops
   * reading at once.
   */
  grow?: (total: number) => RequestFailure | null
  /** The whole body must arrive within this from the start of reading (0 = no limit). */
  timeoutMs?: number
  /** At most this long between two chunks (0 = no limit). */
  idleTimeoutMs?: number
}

/** A body too slow to finish: its connection is closed, so a trickle cannot keep it open. */
export function bodyTimeout(kind: 'total' | 'idle', ms: number): RequestFailure {
  const message = kind === 'total' ? `the request body did not arrive within ${ms} ms; send it faster or in smaller batches` : `no byte of the request body arrived for ${ms} ms; the body is abandoned`
  return { ...failure(408, 'body_timeout', message), close: true, limit: kind === 'total' ? 'body_timeout' : 'body_idle_timeout' }
}

/**
 * Reads the request body, stopping at `limit` bytes. A body over the limit is not kept: the rest is
 * drained (so the connection stays usable and the client sees the 413) and 413 is returned.
 * With a Content-Length the bytes go straight into one buffer of that size. A refusal by `grow` or
 * a timeout stops reading and asks for the connection to be closed.
 */
export function readRequestBody(req: BodySource, limit: number, options: ReadOptions = {}): Promise<Buffer | RequestFailure> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) {
    req.resume()
    return Promise.resolve(tooLarge(limit))
  }
  return new Promise((resolve) => {
    const sized = Number.isSafeInteger(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let idle: NodeJS.Timeout | null = null
    const total = options.timeoutMs ? setTimeout(() => stop(bodyTimeout('total', options.timeoutMs!)), options.timeoutMs) : null
    const idleMs = options.idleTimeoutMs ?? 0
    const armIdle = () => {
      if (idleMs <= 0) return
      if (idle === null) idle = setTimeout(() => stop(bodyTimeout('idle', idleMs)), idleMs)
      else idle.refresh()
    }
    const finish = (result: Buffer | RequestFailure) => {
      if (settled) return
      settled = true
      if (total !== null) clearTimeout(total)
      if (idle !== null) clearTimeout(idle)
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', onError)
      req.removeListener('close', onClose)
      resolve(result)
    }
    // Reading stops here; the rest is discarded until the connection closes after the answer.
    const stop = (f: RequestFailure) => {
      finish(f)
      req.resume()
    }
    const onData = (chunk: Buffer) => {
      const next = size + chunk.length
      if (next > limit || (sized !== null && next > sized.length)) return stop(tooLarge(limit))
      if (sized === null && options.grow) {
        const refusal = options.grow(next)
        if (refusal !== null) return stop({ ...refusal, close: true })
      }
      if (sized !== null) chunk.copy(sized, size)
      else chunks.push(chunk)
      size = next
      armIdle()
    }
    const onEnd = () => finish(sized !== null ? sized.subarray(0, size) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    const onError = (err: Error) => finish(failure(400, 'aborted', `request body could not be read: ${err.message}`))
    const onClose = () => finish(failure(400, 'aborted', 'the client closed the connection before the body was complete'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
    armIdle()
  })
}

/** Undoes the Content-Encoding, refusing bodies that inflate beyond `limit` bytes. */
export async function decodeContent(raw: Buffer, encoding: BodyEncoding, limit: number): Promise<Buffer | RequestFailure> {
  if (encoding === 'identity') return raw
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit })
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return tooLarge(limit)
    return failure(400, 'invalid_gzip', `Content-Encoding is gzip but the body is not valid gzip: ${(err as Error).message}`)
  }
}

/** The body as text: strict UTF-8, a leading byte-order mark dropped. */
export function bodyText(bytes: Buffer): string | RequestFailure {
  if (!isUtf8(bytes)) return failure(400, 'invalid_utf8', `body is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})`)
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  return bytes.toString('utf8', bom ? 3 : 0)
}

/** Offset of the first byte that breaks UTF-8 (only called once a body is known to be bad). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0
  const n = b.length
  while (i < n) {
    const c = b[i]!
    let need: number
    let min: number
    if (c < 0x80) {
      i++
      continue
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1
      min = 0x80
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2
      min = 0x800
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3
      min = 0x10000
    } else return i
    let cp = c & (0x3f >> need)
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]
      if (d === undefined || (d & 0xc0) !== 0x80) return i
      cp = (cp << 6) | (d & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i
    i += need + 1
  }
  return n
}
