import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { bodyText, contentEncoding, decodeContent, firstInvalidUtf8, mediaFormat } from '../../src/ingest/body.ts'
import type { RequestFailure } from '../../src/ingest/failure.ts'
import { elementSpans } from '../../src/ingest/json-spans.ts'
import { locateJsonError } from '../../src/ingest/json-syntax.ts'
import { ParsedBody, parseEventsJson, parseNdjson, parseTrackJson } from '../../src/ingest/parse.ts'

const fail = (v: unknown): RequestFailure => {
  if (v instanceof ParsedBody || Buffer.isBuffer(v) || typeof v === 'string') throw new Error(`expected a failure, got ${String(v)}`)
  return v as RequestFailure
}
const parsed = (v: ParsedBody | RequestFailure): ParsedBody => {
  if (!(v instanceof ParsedBody)) throw new Error(`expected a body, got ${v.code}: ${v.message}`)
  return v
}
const events = (text: string, max = 10_000) => parseEventsJson(text, Buffer.from(text), max)

describe('media type and encoding', () => {
  it.each([
    ['application/json', true, 'json'],
    ['Application/JSON; charset=utf-8', true, 'json'],
    ['application/json;charset="UTF8"', false, 'json'],
    ['application/x-ndjson', true, 'ndjson'],
    ['application/ndjson; charset=utf-8', true, 'ndjson'],
  ] as const)('%s (ndjson allowed: %s) is %s', (header, ndjson, format) => {
    expect(mediaFormat(header, ndjson)).toBe(format)
  })

  it.each([
    ['text/plain', 'Content-Type "text/plain" is not accepted; send one of: application/json, application/x-ndjson, application/ndjson'],
    ['multipart/form-data; boundary=x', 'Content-Type "multipart/form-data" is not accepted'],
    [undefined, 'missing Content-Type'],
    ['application/json; charset=latin1', 'charset "latin1" is not accepted'],
  ])('refuses %s with 415 naming the accepted types', (header, message) => {
    const f = fail(mediaFormat(header, true))
    expect(f).toMatchObject({ status: 415, code: 'unsupported_media_type' })
    expect(f.message).toContain(message)
  })

  it('names only application/json where NDJSON is not accepted (track)', () => {
    const f = fail(mediaFormat('application/x-ndjson', false))
    expect(f.message).toBe('Content-Type "application/x-ndjson" is not accepted; send one of: application/json')
  })

  it('accepts gzip and identity, refuses other encodings with 415', () => {
    expect(contentEncoding(undefined)).toBe('identity')
    expect(contentEncoding('identity')).toBe('identity')
    expect(contentEncoding('GZIP')).toBe('gzip')
    expect(contentEncoding('x-gzip')).toBe('gzip')
    expect(fail(contentEncoding('br'))).toMatchObject({ status: 415, code: 'unsupported_encoding' })
    expect(fail(contentEncoding('gzip, br'))).toMatchObject({ status: 415, code: 'unsupported_encoding' })
  })
})

describe('decodeContent', () => {
  it('gunzips', async () => {
    const out = await decodeContent(gzipSync('[1,2,3]'), 'gzip', 1000)
    expect(Buffer.isBuffer(out) && out.toString()).toBe('[1,2,3]')
  })

  it('passes identity bodies through', async () => {
    const b = Buffer.from('x')
    expect(await decodeContent(b, 'identity', 0)).toBe(b)
  })

  it('stops a zip bomb at the decompressed limit with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(100 * 1024)
    expect(fail(await decodeContent(bomb, 'gzip', 1024 * 1024))).toMatchObject({ status: 413, code: 'payload_too_large' })
  })

  it('allows a body of exactly the limit', async () => {
    const out = await decodeContent(gzipSync(Buffer.alloc(1000, 0x20)), 'gzip', 1000)
    expect(Buffer.isBuffer(out) && out.length).toBe(1000)
  })

  it.each([
    ['not gzip', Buffer.from('[{"event":"x"}]')],
    ['truncated', gzipSync('[{"event":"x","user_id":"u"}]').subarray(0, 12)],
    ['trailing garbage', Buffer.concat([gzipSync('[]'), Buffer.from('garbage')])],
  ])('refuses %s with 400 invalid_gzip', async (_name, body) => {
    expect(fail(await decodeContent(body, 'gzip', 1 << 20))).toMatchObject({ status: 400, code: 'invalid_gzip' })
  })
})

describe('bodyText', () => {
  it('decodes UTF-8 and drops a byte-order mark', () => {
    expect(bodyText(Buffer.from('\ufeff[{"a":"é"}]'))).toBe('[{"a":"é"}]')
  })

  it('refuses invalid UTF-8 naming the first bad byte', () => {
    const f = fail(bodyText(Buffer.from([0x5b, 0x22, 0xc3, 0xa9, 0xff, 0x22, 0x5d])))
    expect(f).toMatchObject({ status: 400, code: 'invalid_utf8', message: 'body is not valid UTF-8 (first bad byte at offset 4)' })
  })

  it.each([
    [[0xc0, 0x80], 0],
    [[0x61, 0xed, 0xa0, 0x80], 1],
    [[0x61, 0x62, 0xe2, 0x82], 2],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0xe2, 0x82, 0xac, 0x80], 3],
  ])('finds the first invalid byte of %j at %d', (bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at)
  })
})

describe('locateJsonError', () => {
  it.each([
    ['[1,2,,3]', 1, 6, "unexpected ','"],
    ['{"a":1,}', 1, 8, 'expected a property name in double quotes'],
    ['{"a" 1}', 1, 6, "expected ':'"],
    ['[1 2]', 1, 4, "expected ',' or ']'"],
    ['[\n  {"a": tru}\n]', 2, 12, 'in a literal'],
    ['[1,2]x', 1, 6, 'after the end of the JSON value'],
    ['["a\\q"]', 1, 5, 'bad escape sequence'],
    ['["a\u0001"]', 1, 4, 'control character in a string'],
    ['["abc', 1, 6, 'unterminated string'],
    ['[01]', 1, 3, "expected ',' or ']'"],
    ['[1e]', 1, 4, 'in a number'],
    ['[-]', 1, 3, 'in a number'],
    ['[NaN]', 1, 2, 'expected a value'],
    ['[1,', 1, 4, 'unexpected end of input'],
    ['{"a":[1,{"b":2]}', 1, 15, "expected ',' or '}'"],
  ])('%j → line %d column %d', (text, line, column, reason) => {
    expect(() => JSON.parse(text)).toThrow()
    const loc = locateJsonError(text)
    expect(loc.line).toBe(line)
    expect(loc.column).toBe(column)
    expect(loc.reason).toContain(reason)
  })

  it('does not recurse on deep nesting', () => {
    const text = '['.repeat(200_000) + ']'.repeat(199_999)
    expect(locateJsonError(text)).toMatchObject({ position: text.length, reason: "unexpected end of input (expected ',' or ']')" })
  })

  it('reports nothing for valid JSON', () => {
    expect(locateJsonError('{"a":[1,-2.5e+3,"x\\u00e9",true,false,null,{}]}').reason).toBe('no error found')
  })
})

describe('elementSpans', () => {
  it('finds the exact text of each array element', () => {
    const text = ' [ {"a":"x]\\"}"} , 1.5e3,"s" ,[[],{}] , null ]'
    const spans = elementSpans(Buffer.from(text), false)!
    const parts = []
    for (let i = 0; i < spans.length; i += 2) parts.push(text.slice(spans[i], spans[i + 1]))
    expect(parts).toEqual(['{"a":"x]\\"}"}', '1.5e3', '"s"', '[[],{}]', 'null'])
  })

  it('finds the batch array, the last one when the key repeats (as JSON.parse does)', () => {
    const text = '{"sent_at":"x","batch":[1],"b\\u0061tch":[{"k":[2]}, 3],"z":{}}'
    const spans = elementSpans(Buffer.from(text), true)!
    expect(spans.length).toBe(4)
    expect(text.slice(spans[0], spans[1])).toBe('{"k":[2]}')
    expect(text.slice(spans[2], spans[3])).toBe('3')
  })
})

describe('parseEventsJson', () => {
  it('takes an array, a {"batch": [...]} object, or one event object', () => {
    expect(parsed(events('[{"event":"a"},{"event":"b"}]')).items).toEqual([{ event: 'a' }, { event: 'b' }])
    expect(parsed(events('{"batch":[{"event":"a"}],"context":1}')).items).toEqual([{ event: 'a' }])
    expect(parsed(events('{"event":"a","user_id":"u"}')).items).toEqual([{ event: 'a', user_id: 'u' }])
    expect(parsed(events('[]')).items).toEqual([])
  })

  it.each([
    ['{"batch":5}', 'invalid_body', '"batch" must be an array of events, got a number', 'batch'],
    ['{"batch":{"event":"a"}}', 'invalid_body', '"batch" must be an array of events, got an object', 'batch'],
    ['5', 'invalid_body', 'body must be a JSON array of events, an object {"batch": [...]}, or one event object; got a number', undefined],
    ['"x"', 'invalid_body', 'got a string', undefined],
    ['null', 'invalid_body', 'got null', undefined],
    ['', 'empty_body', 'request body is empty', undefined],
    [' \n\t ', 'empty_body', 'request body is empty', undefined],
    ['[{"event":"a"},]', 'invalid_json', "body is not valid JSON at line 1, column 16 (position 15): unexpected ']'", undefined],
  ])('%j → 400 %s', (text, code, message, field) => {
    const f = fail(events(text))
    expect(f.status).toBe(400)
    expect(f.code).toBe(code)
    expect(f.message).toContain(message)
    expect(f.field).toBe(field)
  })

  it("reads a batch's sent_at like an event time; null or absent is none", () => {
    expect(parsed(events('{"batch":[{"event":"a"}],"sent_at":"2026-11-01T10:00:00.5Z"}')).sentAt).toBe(Date.UTC(2026, 10, 1, 10, 0, 0, 500))
    expect(parsed(events('{"sent_at":1793527200000,"batch":[{"event":"a"}]}')).sentAt).toBe(1793527200000)
    expect(parsed(events('{"batch":[{"event":"a"}],"sent_at":null}')).sentAt).toBeUndefined()
    expect(parsed(events('[{"event":"a","sent_at":1793527200000}]')).sentAt).toBeUndefined()
    // A one-event body's sent_at is the event's own, read by validateEvent.
    expect(parsed(events('{"event":"a","sent_at":"x"}')).sentAt).toBeUndefined()
  })

  it.each([
    ['{"batch":[],"sent_at":"yesterday"}', 'sent_at: "yesterday" is not an ISO-8601 date-time'],
    ['{"batch":[{"event":"a"}],"sent_at":1793527200}', 'sent_at: looks like epoch seconds; send epoch milliseconds or an ISO-8601 string'],
    ['{"sent_at":true,"batch":[]}', 'sent_at: must be an ISO-8601 string or epoch milliseconds'],
  ])('refuses a batch with a bad sent_at as a whole: %s', (text, message) => {
    expect(fail(events(text))).toMatchObject({ status: 400, code: 'invalid_body', message, field: 'sent_at' })
  })

  it('refuses more than maxEvents with 413 too_many_events', () => {
    expect(fail(events('[1,2,3]', 2))).toMatchObject({ status: 413, code: 'too_many_events' })
    expect(fail(events('{"batch":[1,2,3]}', 2))).toMatchObject({ status: 413, code: 'too_many_events' })
  })

  it('keeps the raw text of an element, even one nested too deeply to stringify', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const text = `[{"event":"ok"}, ${deep} ,{"a":"é"}]`
    const body = parsed(events(text))
    expect(body.raw(0).toString()).toBe('{"event":"ok"}')
    expect(body.raw(1).toString()).toBe(deep)
    expect(body.raw(2).toString()).toBe('{"a":"é"}')
  })

  it('keeps the whole body as the raw bytes of a one-event body', () => {
    const text = '{"event": "a"}'
    expect(parsed(events(text)).raw(0).toString()).toBe(text)
  })
})

describe('parseTrackJson', () => {
  it('takes one object', () => {
    expect(parsed(parseTrackJson('{"event":"a"}', Buffer.from('{"event":"a"}'))).items).toEqual([{ event: 'a' }])
  })

  it.each([
    ['[{"event":"a"}]', 'invalid_body', 'send batches to POST /v1/events'],
    ['1', 'invalid_body', 'got a number'],
    ['', 'empty_body', 'empty'],
    ['{', 'invalid_json', 'line 1, column 2'],
  ])('%j → 400 %s', (text, code, message) => {
    const f = fail(parseTrackJson(text, Buffer.from(text)))
    expect(f).toMatchObject({ status: 400, code })
    expect(f.message).toContain(message)
  })
})

describe('parseNdjson', () => {
  it('parses lines, skips blank ones, and rejects lines that are not JSON by line number', () => {
    const text = '{"event":"a"}\r\n\n   \nnot json\n{"event":"b"}\n[1,\n'
    const body = parsed(parseNdjson(text, Buffer.from(text), 100))
    expect(body.items).toEqual([{ event: 'a' }, { event: 'b' }])
    expect(body.position(0)).toBe(0)
    expect(body.position(1)).toBe(4)
    expect(body.raw(1).toString()).toBe('{"event":"b"}')
    expect(body.early.map((e) => [e.index, e.field, e.reason, e.raw.toString()])).toEqual([
      [3, '(line)', "invalid JSON at column 2: unexpected 'o' in a literal (true, false or null)", 'not json'],
      [5, '(line)', 'invalid JSON at column 4: unexpected end of input (expected a value)', '[1,'],
    ])
  })

  it('rejects only the lines with invalid UTF-8, keeping their exact bytes', () => {
    const bytes = Buffer.concat([Buffer.from('{"event":"a"}\n{"event":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"event":"é"}')])
    const body = parsed(parseNdjson(null, bytes, 100))
    expect(body.items).toEqual([{ event: 'a' }, { event: 'é' }])
    expect(body.position(1)).toBe(2)
    expect(body.raw(1).toString()).toBe('{"event":"é"}')
    expect(body.early).toHaveLength(1)
    expect(body.early[0]).toMatchObject({ index: 1, field: '(line)', reason: 'line is not valid UTF-8' })
    expect([...body.early[0]!.raw.subarray(10, 12)]).toEqual([0xff, 0xfe])
  })

  it('refuses a body of blank lines as empty, and more lines than maxEvents with 413', () => {
    expect(fail(parseNdjson('\n \n', Buffer.from('\n \n'), 10)).code).toBe('empty_body')
    expect(fail(parseNdjson('1\n2\n3', Buffer.from('1\n2\n3'), 2))).toMatchObject({ status: 413, code: 'too_many_events' })
  })
})
