// Hookwire on an Espruino Pico with an ESP8266 Wifi module spoken to by AT commands (the
// Pico's Wifi shim, or an ESP-01 on Serial2): the Wifi module's sockets are handed to the SDK.
// A temperature reading every 10 s at QoS 1, and the 48-hour forecast of the ESP32 example.
//
// Flash it:  npx hookwire flash examples/espruino-pico-at/app.js --port /dev/ttyACM0 --board PICO_R1_3 --save

// Settings: your network, your bridge, this board's device (npx hookwire devices add --name pico).
var WIFI_NAME = "my-wifi";
var WIFI_PASSWORD = "my-password";
var BRIDGE_HOST = "192.168.1.20";
var BRIDGE_PORT = 1883;
var DEVICE_ID = "0123456789abcdef01234567";
var DEVICE_TOKEN = "hwd_paste-the-token-here";
var CITY = "London";
var EVERY_MS = 10000;

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
  }, 500);
}

function start() {
  device = require("hookwire").connect({
    deviceId: DEVICE_ID,
    token: DEVICE_TOKEN,
    // Each connection attempt opens a socket through the ESP8266: its module routes
    // require("net") over AT commands. Any object with write/end and data/close/error
    // events (another Wifi or GSM module's socket) plugs in the same way.
    socket: function (onOpen) {
      return require("net").connect({ host: BRIDGE_HOST, port: BRIDGE_PORT }, onOpen);
    }
  });
  device.on("connect", function () { console.log("connected to the bridge"); });
  device.on("error", function (err) { console.log("error " + err.code); });
  device.subscribe(DEVICE_ID + "/hook-response/forecast/", onForecastPart);
  device.publish("forecast", CITY, { qos: 1 });
  setInterval(function () {
    var celsius = E.getTemperature().toFixed(1);
    device.publish("temperature", celsius, { qos: 1 }, function (err) {
      console.log(err ? "reading not sent: " + err.code : "reading " + celsius + " C acknowledged");
    });
  }, EVERY_MS);
}

// The ESP8266 on the Pico's shim: Serial2 on A2 (TX) and A3 (RX), powered through B9.
Serial2.setup(115200, { rx: A3, tx: A2 });
digitalWrite(B9, 1);
var at = require("ESP8266WiFi_0v25").connect(Serial2, function (err) {
  if (err) return console.log("ESP8266: " + err);
  at.connect(WIFI_NAME, WIFI_PASSWORD, function (err) {
    if (err) return console.log("Wifi: " + err);
    console.log("Wifi up");
    start();
  });
});
