// The device registry: create (the token is shown once), list, get, rename, rotate token, delete.

import { isDeviceId } from '../../../firmware-sdk/rules.ts';
import { NotFoundError } from '../../errors.ts';
import { hashSecret, newDeviceId, newSecret } from '../../ids.ts';
import type { DeviceRecord, Store } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';
import { type Body, bodyOf, optionalInt, optionalString } from '../input.ts';

/** Device names: letters, digits, `_` and `-`, as Particle's; never a device ID. */
const NAME = { pattern: /^(?![0-9a-f]{24}$)[A-Za-z0-9_-]{1,64}$/, describe: 'must be 1-64 characters of A-Z a-z 0-9 _ - and not a device ID' };

/**
 * `product_id` of a device in no product. Particle never answers null there (a device outside a
 * product has its platform's ID, and particle-cli prints that platform's name or else
 * "Product <product_id>"); a Hookwire device has no Particle platform, so it says none, and
 * `particle list` shows "(Product none)", not "(Product null)".
 */
export const NO_PRODUCT = 'none';

/** A device as the API shows it (Particle's field names). */
export function deviceJson(d: DeviceRecord, connected: boolean) {
  return {
    id: d.id,
    name: d.name,
    product_id: d.productId ?? NO_PRODUCT,
    firmware_version: d.firmwareVersion,
    connected,
    last_heard: d.lastHeard,
    created_at: d.createdAt,
  };
}

/** The product a body gives; `"none"` (what a device in no product shows) takes it out of one. */
function productOf(body: Body): number | null | undefined {
  if (body.product_id === NO_PRODUCT || body.productId === NO_PRODUCT) return null;
  return optionalInt(body, ['product_id', 'productId']);
}

/** Find a device by ID or name, as Particle's API accepts either. */
export async function findDevice(store: Store, idOrName: string): Promise<DeviceRecord> {
  const device = isDeviceId(idOrName) ? await store.devices.get(idOrName) : await store.devices.getByName(idOrName);
  if (!device) throw new NotFoundError('DEVICE_NOT_FOUND', `no device ${idOrName}`);
  return device;
}

export default function devices({ app, store, broker }: ApiContext) {
  const isOnline = broker.isDeviceConnected;

  app.post('/v1/devices', async (req, reply) => {
    const body = bodyOf(req.body);
    const name = optionalString(body, ['name'], NAME) ?? null;
    const productId = productOf(body) ?? null;
    const firmwareVersion = optionalInt(body, ['firmware_version', 'firmwareVersion']) ?? null;
    const token = newSecret('hwd_');
    const device = await store.devices.create({ id: newDeviceId(), name, productId, firmwareVersion, tokenHash: hashSecret(token) });
    return reply.code(201).send({ ...deviceJson(device, false), token });
  });

  app.get('/v1/devices', async () => (await store.devices.list()).map((d) => deviceJson(d, isOnline(d.id))));

  app.get<{ Params: { id: string } }>('/v1/devices/:id', async (req) => {
    const device = await findDevice(store, req.params.id);
    return deviceJson(device, isOnline(device.id));
  });

  app.put<{ Params: { id: string } }>('/v1/devices/:id', async (req) => {
    const device = await findDevice(store, req.params.id);
    const body = bodyOf(req.body);
    const updated = await store.devices.update(device.id, {
      name: optionalString(body, ['name'], NAME),
      productId: productOf(body),
      firmwareVersion: optionalInt(body, ['firmware_version', 'firmwareVersion']),
    });
    if (!updated) throw new NotFoundError('DEVICE_NOT_FOUND', `no device ${req.params.id}`);
    // Product and firmware are read at connect: reconnect the device so they apply.
    broker.disconnectDevice(device.id);
    return deviceJson(updated, false);
  });

  app.post<{ Params: { id: string } }>('/v1/devices/:id/token', async (req) => {
    const device = await findDevice(store, req.params.id);
    const token = newSecret('hwd_');
    await store.devices.update(device.id, { tokenHash: hashSecret(token) });
    broker.disconnectDevice(device.id); // the old token stops working now, not at next connect
    return { id: device.id, token };
  });

  app.delete<{ Params: { id: string } }>('/v1/devices/:id', async (req) => {
    const device = await findDevice(store, req.params.id);
    await store.devices.remove(device.id);
    broker.disconnectDevice(device.id);
    return { ok: true };
  });
}
