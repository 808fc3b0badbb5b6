// Errors with a stable `code`: users, logs and tests match on the code, never on the text.

export type ErrorCode =
  // configuration and input
  | 'CONFIG_INVALID'
  | 'BAD_REQUEST'
  | 'BODY_TOO_LARGE'
  | 'NOT_FOUND'
  | 'DEVICE_NOT_FOUND'
  | 'NAME_TAKEN'
  // authentication
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  // events and the broker
  | 'EVENT_NAME_INVALID'
  | 'EVENT_NAME_RESERVED'
  | 'EVENT_PRIVATE_SPACE'
  | 'EVENT_TOO_LARGE'
  | 'EVENT_DATA_INVALID'
  | 'SUBSCRIBE_FORBIDDEN'
  | 'AUTH_FAILED'
  | 'CLIENT_ID_MISMATCH'
  | 'PACKET_TOO_LARGE'
  | 'PROTOCOL_ERROR'
  | 'STORE_FAILED'
  // webhooks
  | 'TEMPLATE_INVALID'
  | 'INTEGRATION_NOT_FOUND'
  | 'INTEGRATION_DISABLED'
  | 'DELIVERY_NOT_FOUND'
  | 'PRODUCT_NOT_FOUND'
  // request bins and API tokens
  | 'BIN_NAME_INVALID'
  | 'BIN_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'INTERNAL';

export class HookwireError extends Error {
  readonly code: ErrorCode;
  /** HTTP status an API answers with for this error. */
  readonly status: number;
  /** The input field at fault, when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { status?: number; field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HookwireError';
    this.code = code;
    this.status = options.status ?? 400;
    this.field = options.field;
  }
}

export function isHookwireError(err: unknown): err is HookwireError {
  return err instanceof HookwireError;
}
