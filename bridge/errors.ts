// The errors the bridge throws, one class per family, each with a stable `code` from
// bridge/codes.ts (in the manner of undici's lib/core/errors.js): callers and tests match on
// `code` or on the class, never on the text. The HTTP status an API answers with comes from
// the code's entry in CODES, so a code means the same everywhere.

import { CODES, type FixedCode } from './codes.ts';

export type { Code, FixedCode } from './codes.ts';

/** Codes of events refused at ingress (a device publish, an API publish). */
export type EventCode = 'EVENT_NAME_INVALID' | 'EVENT_NAME_RESERVED' | 'EVENT_PRIVATE_SPACE' | 'EVENT_TOO_LARGE' | 'EVENT_DATA_INVALID';
/** Codes of things asked for that do not exist. */
export type NotFoundCode = 'NOT_FOUND' | 'DEVICE_NOT_FOUND' | 'PRODUCT_NOT_FOUND' | 'INTEGRATION_NOT_FOUND' | 'DELIVERY_NOT_FOUND' | 'BIN_NOT_FOUND' | 'TOKEN_NOT_FOUND';
/** Codes of input that cannot be used; the field at fault is named. */
export type InputCode = 'BAD_REQUEST' | 'BODY_TOO_LARGE' | 'BIN_NAME_INVALID' | EventCode;

interface ErrorOptions {
  /** The input field at fault, when there is one. */
  field?: string;
  cause?: unknown;
}

export class HookwireError<C extends FixedCode = FixedCode> extends Error {
  readonly code: C;
  /** HTTP status an API answers with for this error. */
  readonly status: number;
  /** The input field at fault, when there is one. */
  readonly field: string | undefined;

  constructor(code: C, message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'HookwireError';
    this.code = code;
    this.status = CODES[code].http ?? 500;
    this.field = options.field;
  }
}

/** Codes of a configuration the bridge will not start with. */
export type ConfigCode = 'CONFIG_INVALID' | 'INSECURE_BIND' | 'TLS_CERT_INVALID';

/**
 * A setting (environment variable or flag) the bridge cannot use, or will not start with:
 * a value out of range (CONFIG_INVALID), a plain listener on the network (INSECURE_BIND), a
 * certificate it cannot load (TLS_CERT_INVALID).
 */
export class ConfigError extends HookwireError<ConfigCode> {
  constructor(message: string, field: string, code: ConfigCode = 'CONFIG_INVALID', cause?: unknown) {
    super(code, message, { field, cause });
    this.name = 'ConfigError';
  }
}

/** Input the API or a template field cannot use. */
export class InputError extends HookwireError<InputCode> {
  constructor(code: InputCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

export class NotFoundError extends HookwireError<NotFoundCode> {
  constructor(code: NotFoundCode, message: string) {
    super(code, message);
    this.name = 'NotFoundError';
  }
}

/** A request that clashes with the current state: a name in use, a disabled integration. */
export class ConflictError extends HookwireError<'NAME_TAKEN' | 'INTEGRATION_DISABLED'> {
  constructor(code: 'NAME_TAKEN' | 'INTEGRATION_DISABLED', message: string, options: ErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ConflictError';
  }
}

/** The store could not be written. */
export class StoreError extends HookwireError<'STORE_FAILED'> {
  constructor(message: string, cause?: unknown) {
    super('STORE_FAILED', message, { cause });
    this.name = 'StoreError';
  }
}

/** A template that cannot be used, or cannot be rendered for an event; `field` names its part. */
export class TemplateError extends HookwireError<'TEMPLATE_INVALID'> {
  constructor(field: string, message: string) {
    super('TEMPLATE_INVALID', `${field}: ${message}`, { field });
    this.name = 'TemplateError';
  }
}

/** An MQTT packet announced over the broker's limit (the connection is closed). */
export class PacketTooLargeError extends HookwireError<'PACKET_TOO_LARGE'> {
  constructor(readonly length: number, readonly limit: number) {
    super('PACKET_TOO_LARGE', `MQTT packet of ${length} bytes is over the ${limit}-byte limit`);
    this.name = 'PacketTooLargeError';
  }
}

/** Throw the error for an unusable input field: `<field> <message>`, the field named. */
export function invalidField(field: string, message: string, code: InputCode | 'TEMPLATE_INVALID' = 'BAD_REQUEST'): never {
  throw new HookwireError(code, `${field} ${message}`, { field });
}

export function isHookwireError(err: unknown): err is HookwireError {
  return err instanceof HookwireError;
}
