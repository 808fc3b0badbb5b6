export { EventBus, type BusEvents, type Inbound, type BrokerRefusal } from './bus.ts';
export { API_COREID, CLOUD_COREID, decodePayload, isoAt, makeEvent, toJson, type DataType, type HookwireEvent, type Publisher } from './model.ts';
export { cloudEvent, deviceEvent, isRefused, type Refused } from './ingress.ts';
