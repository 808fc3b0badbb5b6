// The device SDK for Node: Particle's publish/subscribe model over MQTT.
export { CONNECT_TIMEOUT_MS, connectDevice, createNodeDevice, mqttTransport, nodeCodec, type ConnectOptions, type NodeDeviceOptions } from './src/node.ts';
export {
  createDevice, checkPublish, decodeData, encodeData, sdkError,
  type Device, type DeviceOptions, type EventData, type EventHandler, type Platform,
  type PublishOptions, type Refusal, type SdkError, type Transport,
} from './src/device.ts';
export * as rules from './src/rules.ts';
