// Hookwire on an ESP32 running Espruino: a temperature reading every 10 s at QoS 1, and a
// 48-hour forecast asked of OpenWeatherMap through a webhook, whose answer comes back in
// parts of up to 512 bytes that this app joins and prints. Wifi lost? The app joins again,
// and the SDK reconnects to the bridge by itself.
//
// Flash it:  npx hookwire flash examples/espruino-esp32/app.js --port /dev/ttyUSB0 --board ESP32 --save

// Settings: your network, your bridge, this board's device (npx hookwire devices add --name esp32).
var WIFI_NAME = "my-wifi";
var WIFI_PASSWORD = "my-password";
var BRIDGE_HOST = "192.168.1.20";
var BRIDGE_PORT = 1883;
var DEVICE_ID = "0123456789abcdef01234567";
var DEVICE_TOKEN = "hwd_paste-the-token-here";
var CITY = "London";
var EVERY_MS = 10000;

var wifi = require("Wifi");
var device;

// The forecast's parts, by index. Particle sends no count, and a part can be a few bytes
// short of 512 when the bridge keeps a character whole, so the answer is complete once no
// part has come for half a second.
var parts = [];
var quiet;
function onForecastPart(name, data) {
  parts[name.split("/").pop()] = data;
  if (quiet) clearTimeout(quiet);
  quiet = setTimeout(function () {
    quiet = undefined;
    console.log("Forecast for " + CITY + " (" + parts.length + " parts):\n" + parts.join(""));
    parts = [];
  }, 500);
}

function publishReading() {
  var celsius = E.getTemperature().toFixed(1);
  device.publish("temperature", celsius, { qos: 1 }, function (err) {
    console.log(err ? "reading " + celsius + " not sent: " + err.code : "reading " + celsius + " C acknowledged");
  });
}

function start() {
  device = require("hookwire").connect({ host: BRIDGE_HOST, port: BRIDGE_PORT, deviceId: DEVICE_ID, token: DEVICE_TOKEN });
  device.on("connect", function () { console.log("connected to the bridge"); });
  device.on("disconnect", function () { console.log("bridge connection lost; the SDK reconnects"); });
  device.on("error", function (err) { console.log("error " + err.code + ": " + err.message); });
  device.on("refused", function (err) { console.log("the bridge refused " + err.event + ": " + err.code); });
  device.subscribe(DEVICE_ID + "/hook-response/forecast/", onForecastPart);
  device.subscribe(DEVICE_ID + "/hook-error/forecast/", function (name, data) { console.log("no forecast: " + data); });
  device.publish("forecast", CITY, { qos: 1 });
  setInterval(publishReading, EVERY_MS);
}

function joinWifi() {
  wifi.connect(WIFI_NAME, { password: WIFI_PASSWORD }, function (err) {
    if (err) {
      console.log("Wifi: " + err + "; trying again in 5 s");
      return setTimeout(joinWifi, 5000);
    }
    console.log("Wifi up, IP " + wifi.getIP().ip);
    if (!device) start();
  });
}

wifi.on("disconnected", function () {
  console.log("Wifi lost; joining again");
  setTimeout(joinWifi, 1000);
});
joinWifi();
