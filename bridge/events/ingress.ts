// Ingress: a publish becomes an Event, or a refusal with a stable code.

import { EVENT_NAME_INVALID, NAME_RULE, PRIVATE_RULE, RESERVED_RULE, isValidName, publishNameError } from '../../firmware-sdk/rules.ts';
import type { Failure } from '../codes.ts';
import type { EventCode } from '../errors.ts';
import { decodePayload, isDataError, makeEvent, type HookwireEvent, type Publisher } from './model.ts';

/** Why an event is refused at ingress. */
export type Refused = Failure<EventCode>;

const nameMessages = {
  EVENT_NAME_INVALID: `event name must be ${NAME_RULE}`,
  EVENT_NAME_RESERVED: RESERVED_RULE,
  EVENT_PRIVATE_SPACE: PRIVATE_RULE,
};

/** A device publish: the name must be the device's to publish, the data within its limit. */
export function deviceEvent(name: string, payload: Buffer, device: Publisher): HookwireEvent | Refused {
  const nameError = publishNameError(name, device.coreid) as keyof typeof nameMessages | '';
  if (nameError) return { code: nameError, message: nameMessages[nameError] };
  const data = decodePayload(payload);
  if (isDataError(data)) return data;
  return makeEvent(name, data, device);
}

/** A publish by the cloud or a service client: any valid name, the same data limits. */
export function cloudEvent(name: string, payload: Buffer, from: Publisher): HookwireEvent | Refused {
  if (!isValidName(name)) return { code: EVENT_NAME_INVALID, message: nameMessages.EVENT_NAME_INVALID };
  const data = decodePayload(payload);
  if (isDataError(data)) return data;
  return makeEvent(name, data, from);
}

export function isRefused(r: HookwireEvent | Refused): r is Refused {
  return !('id' in r);
}
