// The espruino-pico-at example in one command:  npx tsx examples/espruino-pico-at/run.ts
//
// app.js, exactly as it is flashed, on the Espruino sandbox with stand-ins for the board
// (examples/lib/espruino.ts), against a bridge and the OpenWeatherMap stand-in. Exit code 0
// when the forecast came back whole and the readings were acknowledged.

import { runEspruinoExample } from '../lib/espruino.ts';
import { runExample } from '../lib/run.ts';

runExample(() => runEspruinoExample({ name: 'espruino-pico-at', board: 'pico-at', reading: 'temperature' }));
