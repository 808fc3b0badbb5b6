// A stand-in for OpenWeatherMap's current weather API,
// https://api.openweathermap.org/data/2.5/weather, the URL in template.json, and its 3-hourly
// forecast, /data/2.5/forecast (the Espruino examples' template). It answers as the real one
// does: `q` is a city name (optionally `,country`), `appid` the API key, `units` `standard`
// (kelvin, the default), `metric` (°C) or `imperial` (°F), `cnt` how many forecast steps; the
// body is the same JSON shape, and errors are JSON too: 401 for a wrong key, 404 "city not
// found". It knows a few cities, with fixed readings so every run shows the same weather.

import { serve, type Exchange, type StandIn, type StandInRequest, type StandInResponse } from '../lib/stand-in.ts';

interface City {
  id: number;
  name: string;
  country: string;
  coord: { lon: number; lat: number };
  timezone: number;
  /** °C. */
  temp: number;
  feelsLike: number;
  humidity: number;
  pressure: number;
  wind: { speed: number; deg: number };
  clouds: number;
  weather: { id: number; main: string; description: string; icon: string };
}

const CITIES: City[] = [
  {
    id: 2643743, name: 'London', country: 'GB', coord: { lon: -0.1257, lat: 51.5085 }, timezone: 3600,
    temp: 14.8, feelsLike: 14.3, humidity: 77, pressure: 1012, wind: { speed: 4.63, deg: 240 }, clouds: 75,
    weather: { id: 500, main: 'Rain', description: 'light rain', icon: '10d' },
  },
  {
    id: 2988507, name: 'Paris', country: 'FR', coord: { lon: 2.3488, lat: 48.8534 }, timezone: 7200,
    temp: 18.2, feelsLike: 17.6, humidity: 58, pressure: 1016, wind: { speed: 3.09, deg: 200 }, clouds: 40,
    weather: { id: 802, main: 'Clouds', description: 'scattered clouds', icon: '03d' },
  },
  {
    id: 1850147, name: 'Tokyo', country: 'JP', coord: { lon: 139.6917, lat: 35.6895 }, timezone: 32400,
    temp: 23.5, feelsLike: 23.9, humidity: 71, pressure: 1009, wind: { speed: 2.57, deg: 150 }, clouds: 0,
    weather: { id: 800, main: 'Clear', description: 'clear sky', icon: '01n' },
  },
];

const json = (status: number, body: unknown): StandInResponse => ({ status, type: 'application/json', body: JSON.stringify(body) });
const round2 = (n: number) => Math.round(n * 100) / 100;

/** A temperature in °C as the `units` asked for. */
function temperature(celsius: number, units: string): number {
  if (units === 'metric') return round2(celsius);
  if (units === 'imperial') return round2(celsius * 9 / 5 + 32);
  return round2(celsius + 273.15); // standard: kelvin
}

/** The body OpenWeatherMap answers for a city (the fields of its current weather response). */
function current(city: City, units: string) {
  const t = (c: number) => temperature(c, units);
  const now = Math.floor(Date.now() / 1000);
  return {
    coord: city.coord,
    weather: [city.weather],
    base: 'stations',
    main: {
      temp: t(city.temp), feels_like: t(city.feelsLike), temp_min: t(city.temp - 1.1), temp_max: t(city.temp + 0.9),
      pressure: city.pressure, humidity: city.humidity, sea_level: city.pressure, grnd_level: city.pressure - 4,
    },
    visibility: 10000,
    wind: units === 'imperial' ? { speed: round2(city.wind.speed * 2.237), deg: city.wind.deg } : city.wind,
    clouds: { all: city.clouds },
    dt: now,
    sys: { country: city.country, sunrise: now - 6 * 3600, sunset: now + 6 * 3600 },
    timezone: city.timezone,
    id: city.id,
    name: city.name,
    cod: 200,
  };
}

/** Descriptions a forecast cycles through, step by step. */
const FORECAST_SKY = [
  { id: 500, main: 'Rain', description: 'light rain', icon: '10d' },
  { id: 803, main: 'Clouds', description: 'broken clouds', icon: '04d' },
  { id: 800, main: 'Clear', description: 'clear sky', icon: '01n' },
  { id: 802, main: 'Clouds', description: 'scattered clouds', icon: '03n' },
];

/** The body of OpenWeatherMap's 3-hourly forecast: `count` steps from 00:00 UTC on 2026-11-28. */
function forecast(city: City, units: string, count: number) {
  const start = Date.UTC(2026, 10, 28) / 1000;
  const list = Array.from({ length: count }, (_, i) => {
    const dt = start + i * 3 * 3600;
    const celsius = city.temp + Math.round(Math.sin(i / 2) * 30) / 10; // a gentle, fixed swing
    return {
      dt,
      main: { temp: temperature(celsius, units), feels_like: temperature(celsius - 0.6, units), pressure: city.pressure, humidity: city.humidity },
      weather: [FORECAST_SKY[i % FORECAST_SKY.length]!],
      clouds: { all: city.clouds },
      wind: city.wind,
      visibility: 10000,
      pop: i % 4 === 0 ? 0.6 : 0,
      dt_txt: new Date(dt * 1000).toISOString().replace('T', ' ').slice(0, 19),
    };
  });
  return {
    cod: '200', message: 0, cnt: count, list,
    city: { id: city.id, name: city.name, coord: city.coord, country: city.country, timezone: city.timezone },
  };
}

export interface WeatherStandIn extends StandIn {
  /** The API key it accepts. */
  apiKey: string;
  /** The cities it knows. */
  cities: string[];
}

export interface WeatherOptions {
  /** Default `YOUR_KEY`, the placeholder in template.json. */
  apiKey?: string;
  /** Told about every request and its answer (for the transcript). */
  onExchange?: Exchange;
}

export async function startWeather(options: WeatherOptions = {}): Promise<WeatherStandIn> {
  const apiKey = options.apiKey ?? 'YOUR_KEY';

  function weather(req: StandInRequest): StandInResponse {
    if (req.path !== '/data/2.5/weather' && req.path !== '/data/2.5/forecast') return json(404, { cod: '404', message: 'Internal error' });
    if (req.query.get('appid') !== apiKey) {
      return json(401, { cod: 401, message: 'Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.' });
    }
    const q = req.query.get('q');
    if (!q) return json(400, { cod: '400', message: 'Nothing to geocode' });
    // "London", "london,uk", "London,GB": the city name decides, case aside.
    const name = q.split(',')[0]!.trim().toLowerCase();
    const city = CITIES.find((c) => c.name.toLowerCase() === name);
    if (!city) return json(404, { cod: '404', message: 'city not found' });
    const units = req.query.get('units') ?? 'standard';
    if (req.path === '/data/2.5/forecast') return json(200, forecast(city, units, Math.min(40, Number(req.query.get('cnt')) || 40)));
    return json(200, current(city, units));
  }

  const server = await serve(weather, options.onExchange);
  return { ...server, apiKey, cities: CITIES.map((c) => c.name) };
}
