// Ingress: a publish becomes an Event, or a refusal with a stable code.

import { EVENT_NAME_INVALID, isValidName, publishNameError } from '../../firmware-sdk/src/rules.ts';
import { decodeData, isDataError, makeEvent, type HookwireEvent, type Publisher } from './model.ts';

export interface Refused {
  code: string;
  message: string;
}

const nameMessages: Record<string, string> = {
  EVENT_NAME_INVALID: 'event name must be 1-64 characters of A-Z a-z 0-9 _ - /',
  EVENT_NAME_RESERVED: 'event names starting with hook-sent, hook-response, hook-error, spark, particle or hookwire are reserved for the cloud',
  EVENT_PRIVATE_SPACE: "events under another device's ID are private to that device",
};

/** A device publish: the name must be the device's to publish, the data within its limit. */
export function deviceEvent(name: string, payload: Buffer, device: Publisher): HookwireEvent | Refused {
  const nameError = publishNameError(name, device.coreid);
  if (nameError) return { code: nameError, message: nameMessages[nameError] ?? nameError };
  const data = decodeData(payload);
  if (isDataError(data)) return data;
  return makeEvent(name, data, device);
}

/** A publish by the cloud or a service client: any valid name, the same data limits. */
export function cloudEvent(name: string, payload: Buffer, from: Publisher): HookwireEvent | Refused {
  if (!isValidName(name)) return { code: EVENT_NAME_INVALID, message: nameMessages.EVENT_NAME_INVALID! };
  const data = decodeData(payload);
  if (isDataError(data)) return data;
  return makeEvent(name, data, from);
}

export function isRefused(r: HookwireEvent | Refused): r is Refused {
  return !('id' in r);
}
