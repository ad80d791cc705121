export * from './ast.ts'
export * from './types.ts'
export { RuleError, type ExprSource, type Position } from './errors.ts'
export { DURATION_UNITS, formatDuration, parseDuration, type DurationUnit } from './duration.ts'
export {
  BUILTIN_TRAITS,
  KNOWN_TRAITS,
  PREDICTED_TRAITS,
  PREDICTED_TRAIT_PREFIX,
  PREDICTION_EVENT_NAME,
  PROFILE_PROPERTIES,
  TRAITS,
  TraitCatalog,
  isKnownTrait,
  predictionEventProblem,
  type ProfileProperty,
  type TraitName,
  type TraitType,
  type TraitValues,
} from './traits.ts'
export { TRAIT_LIMITS, traitNameProblem, type CompiledTrait, type ComputedTraitDefinition, type PropertyTraitDefinition, type TraitDefinition } from './custom-traits.ts'
export { parseExpression, parseValue, type ExprContext } from './parser.ts'
export { metricKey, printExpr } from './print.ts'
export { COMPARATORS, type Value } from './compile-expr.ts'
export { compileFilter, type EventFilter, type EventProps } from './compile-filter.ts'
export { readPath } from './read-path.ts'
export { compileRules } from './compile.ts'
export { compileRulesYaml, DEFAULT_EMIT, loadRulesFile, parseRulesYaml, PLAYER_EMIT } from './load-yaml.ts'
export { shareableRules } from './shareable.ts'
export { DEFAULT_STREAMS, effectiveStreams, MAX_STREAMS, type StreamDefinition } from './streams.ts'
export { compileMessage, MESSAGE_LIMITS, type MessageTemplate } from './message-template.ts'
