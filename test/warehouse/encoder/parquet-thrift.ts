import { WIRE, type Struct, type Value } from './compact-reader.ts'

/*
 * The part of parquet.thrift (https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift)
 * that the sink writes, copied by hand: each struct's field ids, their declared types and which are
 * required. Readers generated from the IDL (parquet-java, Arrow, DuckDB) skip a field whose wire type
 * is not the declared one, so a footer must match these types exactly, not merely decode.
 */

type Declared = 'bool' | 'i16' | 'i32' | 'i64' | 'binary' | { struct: string } | { list: Declared }

interface Decl {
  fields: Record<number, Declared>
  required: number[]
}

const S = (struct: string): Declared => ({ struct })
const L = (list: Declared): Declared => ({ list })
const EMPTY: Decl = { fields: {}, required: [] }

export const PARQUET_THRIFT: Record<string, Decl> = {
  FileMetaData: {
    fields: { 1: 'i32', 2: L(S('SchemaElement')), 3: 'i64', 4: L(S('RowGroup')), 5: L(S('KeyValue')), 6: 'binary', 7: L(S('ColumnOrder')), 9: 'binary' },
    required: [1, 2, 3, 4],
  },
  KeyValue: { fields: { 1: 'binary', 2: 'binary' }, required: [1] },
  SchemaElement: {
    fields: { 1: 'i32', 2: 'i32', 3: 'i32', 4: 'binary', 5: 'i32', 6: 'i32', 7: 'i32', 8: 'i32', 9: 'i32', 10: S('LogicalType') },
    required: [4],
  },
  LogicalType: {
    fields: { 1: S('Empty'), 2: S('Empty'), 3: S('Empty'), 4: S('Empty'), 6: S('Empty'), 8: S('TimestampType'), 10: S('IntType'), 11: S('Empty'), 12: S('Empty') },
    required: [],
  },
  TimestampType: { fields: { 1: 'bool', 2: S('TimeUnit') }, required: [1, 2] },
  IntType: { fields: { 1: { list: 'i32' }, 2: 'bool' }, required: [1, 2] },
  TimeUnit: { fields: { 1: S('Empty'), 2: S('Empty'), 3: S('Empty') }, required: [] },
  Empty: EMPTY,
  RowGroup: {
    fields: { 1: L(S('ColumnChunk')), 2: 'i64', 3: 'i64', 4: L(S('SortingColumn')), 5: 'i64', 6: 'i64', 7: 'i16' },
    required: [1, 2, 3],
  },
  SortingColumn: { fields: { 1: 'i32', 2: 'bool', 3: 'bool' }, required: [1, 2, 3] },
  ColumnChunk: {
    fields: { 1: 'binary', 2: 'i64', 3: S('ColumnMetaData'), 4: 'i64', 5: 'i32', 6: 'i64', 7: 'i32' },
    required: [2],
  },
  ColumnMetaData: {
    fields: {
      1: 'i32',
      2: L('i32'),
      3: L('binary'),
      4: 'i32',
      5: 'i64',
      6: 'i64',
      7: 'i64',
      8: L(S('KeyValue')),
      9: 'i64',
      10: 'i64',
      11: 'i64',
      12: S('Statistics'),
      14: 'i64',
      15: 'i32',
    },
    required: [1, 2, 3, 4, 5, 6, 7, 9],
  },
  Statistics: { fields: { 1: 'binary', 2: 'binary', 3: 'i64', 4: 'i64', 5: 'binary', 6: 'binary', 7: 'bool', 8: 'bool' }, required: [] },
  ColumnOrder: { fields: { 1: S('Empty') }, required: [] },
  PageHeader: {
    fields: { 1: 'i32', 2: 'i32', 3: 'i32', 4: 'i32', 5: S('DataPageHeader'), 7: S('DictionaryPageHeader') },
    required: [1, 2, 3],
  },
  DataPageHeader: { fields: { 1: 'i32', 2: 'i32', 3: 'i32', 4: 'i32', 5: S('Statistics') }, required: [1, 2, 3, 4] },
  DictionaryPageHeader: { fields: { 1: 'i32', 2: 'i32', 3: 'bool' }, required: [1, 2] },
}

/** Where a decoded struct departs from its declaration: unknown fields, wrong wire types, missing required fields. */
export function violations(s: Struct, name: string, path = name): string[] {
  const decl = PARQUET_THRIFT[name]
  if (!decl) return [`${path}: no declaration for ${name}`]
  const out: string[] = []
  for (const id of decl.required) if (!s.has(id)) out.push(`${path}.${id}: required, missing`)
  for (const [id, f] of s) {
    const want = decl.fields[id]
    if (want === undefined) out.push(`${path}.${id}: not a field of ${name}`)
    else out.push(...valueViolations(f.value, want, `${path}.${id}`))
  }
  // A union holds exactly one of its fields.
  if ((name === 'LogicalType' || name === 'TimeUnit' || name === 'ColumnOrder') && s.size !== 1) out.push(`${path}: a union with ${s.size} fields set`)
  return out
}

function valueViolations(v: Value, want: Declared, path: string): string[] {
  if (typeof want === 'string') return v.wire === want ? [] : [`${path}: declared ${want}, written as ${v.wire}`]
  if ('struct' in want) return v.wire === 'struct' ? violations(v.v, want.struct, path) : [`${path}: declared struct ${want.struct}, written as ${v.wire}`]
  if (v.wire !== 'list') return [`${path}: declared list, written as ${v.wire}`]
  const elem = wireCode(want.list)
  if (v.elem !== elem && !(elem === WIRE.TRUE && v.elem === WIRE.FALSE)) return [`${path}: list of wire type ${v.elem}, declared ${elem}`]
  return v.v.flatMap((e, i) => valueViolations(e, want.list, `${path}[${i}]`))
}

function wireCode(d: Declared): number {
  if (typeof d !== 'string') return 'struct' in d ? WIRE.STRUCT : WIRE.LIST
  return { bool: WIRE.TRUE, i16: WIRE.I16, i32: WIRE.I32, i64: WIRE.I64, binary: WIRE.BINARY }[d]
}
