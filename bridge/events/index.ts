// Events: the model (what a publish becomes), the one way in (ingest) and the bus.
export { EventBus, type BusEvents, type Inbound, type BrokerRefusal } from './bus.ts';
export { API_COREID, CLOUD_COREID, isoAt, toJson, type DataType, type HookwireEvent, type Publisher } from './model.ts';
export {
  carriedOf, createIngest, eventCarried, eventFrom, isHookEvent, isRefused,
  type Acceptance, type Ingest, type IngestDeps, type NameRules, type Outlet, type Refused, type TakeOptions,
} from './ingest.ts';
