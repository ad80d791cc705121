import { createRequire } from 'node:module'

/** The parts of the OpenAPI document the tests read. */
export interface MediaType {
  schema?: object
}
export interface ResponseObject {
  description: string
  content?: Record<string, MediaType>
}
export interface Operation {
  operationId?: string
  responses: Record<string, ResponseObject>
}
export interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
}

/** The document as the server serves it. */
export async function fetchDocument(url: string): Promise<OpenApiDocument> {
  const res = await fetch(`${url}/docs/json`)
  if (res.status !== 200) throw new Error(`GET /docs/json answered ${res.status}`)
  return (await res.json()) as OpenApiDocument
}

export interface SchemaValidator {
  (data: unknown): boolean
  errors?: unknown[] | null
}

interface AjvInstance {
  compile(schema: object): SchemaValidator
}

/**
 * Ajv 8 with JSON Schema 2020-12, the dialect of OpenAPI 3.1. It is not a dependency of the project
 * itself (the top-level `ajv` is eslint's Ajv 6, which knows neither 2020-12 nor type arrays in all
 * places): it is the Ajv Fastify validates with, reached through @fastify/ajv-compiler, which Fastify
 * depends on. `strict: false`: the document holds OpenAPI annotations Ajv does not know.
 */
export function createAjv(): AjvInstance {
  const fromProject = createRequire(import.meta.url)
  const fromCompiler = createRequire(fromProject.resolve('@fastify/ajv-compiler'))
  const Ajv2020 = fromCompiler('ajv/dist/2020') as { default: new (options: object) => AjvInstance }
  return new Ajv2020.default({ strict: false, allErrors: true })
}

/** The response the document lists for a status: the exact code, else its range (`4XX`). */
export function documentedResponse(op: Operation, status: number): ResponseObject | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`]
}
