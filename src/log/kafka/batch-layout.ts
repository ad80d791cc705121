/*
 * Where things lie in a Kafka record batch (magic v2) and its attribute bits, for the readers and
 * the writer here: https://kafka.apache.org/documentation/#recordbatch
 */

/** Header bytes before the first record: base offset 0, length 8, …, attributes 21, last offset delta 23, producer id 43, epoch 51, base sequence 53, count 57. */
export const BATCH_HEADER = 61
export const ATTRIBUTES_AT = 21
export const LAST_DELTA_AT = 23
export const PRODUCER_ID_AT = 43
export const COMPRESSION = 0x07
export const LOG_APPEND_TIME = 0x08
/** Written by a transactional producer: visible to read_committed readers once its transaction commits. */
export const IS_TRANSACTIONAL = 0x10
/** A transaction marker (commit or abort), not records. */
export const IS_CONTROL = 0x20
