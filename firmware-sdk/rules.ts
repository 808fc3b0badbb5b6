// The event rules device and cloud share (valid names, reserved names, private spaces, data
// limits): the bridge's entry to the SDK, without the Node platform's MQTT client.
export * from './src/rules.ts';
