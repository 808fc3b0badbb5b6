// Hookwire on an ESP8266 running Espruino, within its 1,700 variables: a light reading (an LDR
// on A0) every 10 s at QoS 1, and the 48-hour forecast of the ESP32 example, its parts joined
// and printed. Load the SDK into Storage (npx hookwire flash does), never into RAM.
//
// Flash it:  npx hookwire flash examples/espruino-esp8266/app.js --port /dev/ttyUSB0 --board ESP8266 --save

// Settings: your network, your bridge, this board's device (npx hookwire devices add --name esp8266).
var WIFI_NAME = "my-wifi";
var WIFI_PASSWORD = "my-password";
var BRIDGE_HOST = "192.168.1.20";
var BRIDGE_PORT = 1883;
var DEVICE_ID = "0123456789abcdef01234567";
var DEVICE_TOKEN = "hwd_paste-the-token-here";
var CITY = "London";
var EVERY_MS = 10000;

console.log("free variables at start: " + process.memory().free);
var wifi = require("Wifi");
var device;
var parts = [];
var quiet;

function onForecastPart(name, data) {
  parts[name.split("/").pop()] = data;
  if (quiet) clearTimeout(quiet);
  quiet = setTimeout(function () {
    quiet = undefined;
    console.log("Forecast for " + CITY + ":\n" + parts.join(""));
    parts = [];
    console.log("free variables: " + process.memory().free);
  }, 500);
}

function start() {
  device = require("hookwire").connect({ host: BRIDGE_HOST, port: BRIDGE_PORT, deviceId: DEVICE_ID, token: DEVICE_TOKEN });
  device.on("connect", function () { console.log("connected to the bridge, free variables: " + process.memory().free); });
  device.on("error", function (err) { console.log("error " + err.code); });
  device.subscribe(DEVICE_ID + "/hook-response/forecast/", onForecastPart);
  device.publish("forecast", CITY, { qos: 1 });
  setInterval(function () {
    var light = Math.round(analogRead(A0) * 100);
    device.publish("light", String(light), { qos: 1 }, function (err) {
      console.log(err ? "reading not sent: " + err.code : "light " + light + "% acknowledged");
    });
  }, EVERY_MS);
}

wifi.connect(WIFI_NAME, { password: WIFI_PASSWORD }, function (err) {
  if (err) return console.log("Wifi: " + err);
  console.log("Wifi up");
  start();
});
