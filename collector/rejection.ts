// Why a message was set aside instead of stored. A value, never a thrown error: bad input is expected.

export type RejectionCode =
  | 'too_large'
  | 'not_json'
  | 'not_object'
  | 'missing_field'
  | 'bad_field'
  | 'unsupported_version'
  | 'ts_out_of_range'
  | 'unknown_topic'
  | 'bad_device_id'
  | 'internal_error'
  | 'store_rejected';

export class Rejection {
  constructor(
    readonly code: RejectionCode,
    readonly message: string,
  ) {}
}

export const MAX_PAYLOAD_BYTES = 64 * 1024;
