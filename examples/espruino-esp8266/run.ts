// The espruino-esp8266 example in one command:  npx tsx examples/espruino-esp8266/run.ts
//
// app.js, exactly as it is flashed, on the Espruino sandbox with stand-ins for the board
// (examples/lib/espruino.ts), against a bridge and the OpenWeatherMap stand-in. Exit code 0
// when the forecast came back whole and the readings were acknowledged.

import { runEspruinoExample } from '../lib/espruino.ts';
import { runExample } from '../lib/run.ts';

runExample(() => runEspruinoExample({ name: 'espruino-esp8266', board: 'esp8266', reading: 'light' }));
