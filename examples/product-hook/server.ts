// A stand-in for a product's own fleet backend, the URL in template.json:
//   GET /api/products/<productId>/devices/<deviceId>/settings
// answers that device's settings as JSON, or 404 JSON for a device it does not know. The
// bridge fills both IDs in from the event ({{{PRODUCT_ID}}}, {{{PARTICLE_DEVICE_ID}}}), so
// each device's request, and answer, is its own.

import { serve, type Exchange, type StandIn, type StandInRequest, type StandInResponse } from '../lib/stand-in.ts';

/** What the backend keeps for each device. */
export interface Settings {
  /** The device's label in the fleet. */
  label: string;
  /** How often the device reports, seconds. */
  reportEveryS: number;
  /** Temperature to hold, °C. */
  targetC: number;
}

export interface FleetStandIn extends StandIn {
  /** Set (or replace) a device's settings. */
  configure(productId: number, deviceId: string, settings: Settings): void;
}

export interface FleetOptions {
  /** Told about every request and its answer (for the transcript). */
  onExchange?: Exchange;
}

const json = (status: number, body: unknown): StandInResponse => ({ status, type: 'application/json', body: JSON.stringify(body) });
const ROUTE = /^\/api\/products\/(\d+)\/devices\/([0-9a-f]{24})\/settings$/;

export async function startFleet(options: FleetOptions = {}): Promise<FleetStandIn> {
  const table = new Map<string, Settings>(); // "<productId>/<deviceId>" → settings

  function answer(req: StandInRequest): StandInResponse {
    const match = ROUTE.exec(req.path);
    if (!match) return json(404, { error: 'not_found', path: req.path });
    if (req.method !== 'GET') return json(405, { error: 'method_not_allowed' });
    const [, productId, deviceId] = match;
    const settings = table.get(`${productId}/${deviceId}`);
    if (!settings) return json(404, { error: 'unknown_device', device: deviceId, product: Number(productId) });
    // The device ID is in the answer too, so a device can check the settings are its own.
    return json(200, { device: deviceId, label: settings.label, report_every_s: settings.reportEveryS, target_c: settings.targetC });
  }

  const server = await serve(answer, options.onExchange);
  return {
    ...server,
    configure: (productId, deviceId, settings) => void table.set(`${productId}/${deviceId}`, settings),
  };
}
