// Devices: who is online (refreshed every 2 s), last heard, product and firmware; add a
// device (its token shown once, with lines to connect it), a new token, rename, delete.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, del, get, post, put, seg, type Who } from '../api.ts';
import { Copy, DangerButton, ErrorNote, Field, Loading, Page, Time, useAction, useCanChange, useLoad, useWho } from '../ui.ts';

export interface Device {
  id: string;
  name: string | null;
  product_id: number | 'none';
  firmware_version: number | null;
  connected: boolean;
  last_heard: string | null;
  created_at: string;
}

/** Where a device on this network connects: the host this page came from, the broker's port. */
function brokerUrl(who: Who): { url: string; host: string; port: number; tls: boolean } {
  const { mqtt_port, mqtts_port } = who.broker;
  const host = location.hostname;
  const tls = !mqtt_port && !!mqtts_port;
  const port = (tls ? mqtts_port : mqtt_port) ?? 1883;
  return { url: `${tls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${port}`, host, port, tls };
}

/** A new device's token, once, with what connects it. */
function NewToken(props: { device: Device; token: string; done: () => void }) {
  const who = useWho();
  const broker = brokerUrl(who);
  const { id } = props.device;
  const mosquitto = `mosquitto_pub -h ${broker.host} -p ${broker.port}${broker.tls ? ' --capath /etc/ssl/certs' : ''} -V mqttv311 -q 1 -i ${id} -u ${id} -P '${props.token}' -t temp -m 21.5`;
  const node = `// device.mts, in a clone of Hookwire (npx tsx device.mts)
import { connectDevice } from './firmware-sdk/index.ts';

const device = await connectDevice({ url: '${broker.url}', deviceId: '${id}', token: '${props.token}' });
await device.publish('temp', 21.5, { qos: 1 });`;
  const espruino = `var device = require("hookwire").connect({ host: "${broker.host}", port: ${broker.port},${broker.tls ? ' tls: true,' : ''} deviceId: "${id}", token: "${props.token}" });
device.on("connect", function () { device.publish("temp", "21.5", { qos: 1 }); });`;
  return html`
    <div class="card notice" role="status">
      <h2>Token for ${props.device.name ?? id}</h2>
      <p><strong>Shown once.</strong> The bridge keeps only its hash; make a new one if it is lost.</p>
      <${Copy} text=${props.token} label="Copy the device token" />
      <h3>Publish with mosquitto_pub</h3>
      <${Copy} text=${mosquitto} label="Copy the mosquitto_pub line" />
      <h3>Node</h3>
      <${Copy} text=${node} label="Copy the Node snippet" />
      <h3>Espruino</h3>
      <${Copy} text=${espruino} label="Copy the Espruino snippet" />
      <button type="button" onClick=${props.done}>Done</button>
    </div>`;
}

function AddDevice(props: { added: (device: Device, token: string) => void; cancel: () => void }) {
  const [name, setName] = useState('');
  const [product, setProduct] = useState('');
  const [firmware, setFirmware] = useState('');
  const add = useAction(async () => {
    const body: Record<string, unknown> = {};
    if (name) body.name = name;
    if (product) body.product_id = product;
    if (firmware) body.firmware_version = firmware;
    const created = await post<Device & { token: string }>('/v1/devices', body);
    const { token, ...device } = created;
    props.added(device, token);
  });
  const fieldError = (f: string) => (add.error instanceof ApiError && add.error.field === f ? add.error.message : undefined);
  return html`
    <form class="card" onSubmit=${(e: Event) => { e.preventDefault(); void add.run(); }}>
      <h2>Add a device</h2>
      <div class="row">
        <${Field} label="Name (optional)" id="device-name" error=${fieldError('name')}>
          <input id="device-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="kitchen" />
        </${Field}>
        <${Field} label="Product ID (optional)" id="device-product" error=${fieldError('product_id')}>
          <input id="device-product" inputmode="numeric" value=${product} onInput=${(e: Event) => setProduct((e.target as HTMLInputElement).value)} />
        </${Field}>
        <${Field} label="Firmware version (optional)" id="device-firmware" error=${fieldError('firmware_version')}>
          <input id="device-firmware" inputmode="numeric" value=${firmware} onInput=${(e: Event) => setFirmware((e.target as HTMLInputElement).value)} />
        </${Field}>
      </div>
      ${add.error && !(add.error instanceof ApiError && add.error.field) ? html`<${ErrorNote} error=${add.error} />` : null}
      <div class="buttons">
        <button type="submit" class="primary" disabled=${add.busy}>Add device</button>
        <button type="button" onClick=${props.cancel}>Cancel</button>
      </div>
    </form>`;
}

function DeviceRow(props: { device: Device; changed: () => void; newToken: (device: Device, token: string) => void }) {
  const canChange = useCanChange();
  const d = props.device;
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(d.name ?? '');
  const rename = useAction(async () => {
    await put(`/v1/devices/${d.id}`, { name });
    setRenaming(false);
    props.changed();
  });
  const rotate = useAction(async () => {
    const answer = await post<{ token: string }>(`/v1/devices/${d.id}/token`);
    props.newToken(d, answer.token);
  });
  const remove = useAction(async () => {
    await del(`/v1/devices/${seg(d.id)}`);
    props.changed();
  });
  return html`
    <tr>
      <td data-label="Device">
        ${renaming
          ? html`<form class="inline" onSubmit=${(e: Event) => { e.preventDefault(); void rename.run(); }}>
              <label class="visually-hidden" for=${`rename-${d.id}`}>New name</label>
              <input id=${`rename-${d.id}`} value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
              <button type="submit" class="small primary" disabled=${rename.busy}>Save</button>
              <button type="button" class="small" onClick=${() => setRenaming(false)}>Cancel</button>
            </form>`
          : html`<strong>${d.name ?? html`<span class="muted">unnamed</span>`}</strong>`}
        <div class="mono small">${d.id}</div>
        <${ErrorNote} error=${rename.error ?? rotate.error ?? remove.error} />
      </td>
      <td data-label="Status"><span class=${`dot ${d.connected ? 'online' : 'offline'}`}></span>${d.connected ? 'online' : 'offline'}</td>
      <td data-label="Last heard"><${Time} at=${d.last_heard} /></td>
      <td data-label="Product">${d.product_id}</td>
      <td data-label="Firmware">${d.firmware_version ?? html`<span class="muted">–</span>`}</td>
      ${canChange ? html`
        <td><div class="row-actions">
          <button type="button" class="small" onClick=${() => setRenaming(true)}>Rename</button>
          <button type="button" class="small" onClick=${() => window.confirm(`Give ${d.name ?? d.id} a new token? The old one stops working and the device is disconnected.`) && rotate.run()}>New token</button>
          <${DangerButton} small confirm=${`Delete ${d.name ?? d.id}? It is disconnected and its token stops working.`} onConfirm=${() => remove.run()}>Delete</${DangerButton}>
        </div></td>` : null}
    </tr>`;
}

export function Devices() {
  const canChange = useCanChange();
  const devices = useLoad(() => get<Device[]>('/v1/devices'), [], 2000);
  const [adding, setAdding] = useState(false);
  const [shown, setShown] = useState<{ device: Device; token: string } | null>(null);
  const online = devices.data?.filter((d) => d.connected).length ?? 0;

  const showToken = (device: Device, token: string) => {
    setAdding(false);
    setShown({ device, token });
    void devices.reload();
  };

  return html`
    <${Page} title="Devices" actions=${canChange && !adding ? html`<button type="button" class="primary" onClick=${() => { setShown(null); setAdding(true); }}>Add device</button>` : null}>
      ${adding ? html`<${AddDevice} added=${showToken} cancel=${() => setAdding(false)} />` : null}
      ${shown ? html`<${NewToken} device=${shown.device} token=${shown.token} done=${() => setShown(null)} />` : null}
      <${Loading} loaded=${devices}>${(list: Device[]) => list.length === 0
        ? html`<p class="empty">No devices yet.${canChange ? ' Add one to get its token.' : ''}</p>`
        : html`
          <p class="muted" aria-live="polite">${online} of ${list.length} online</p>
          <table class="list">
            <thead><tr><th>Device</th><th>Status</th><th>Last heard</th><th>Product</th><th>Firmware</th>${canChange ? html`<th><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
            <tbody>${list.map((d) => html`<${DeviceRow} key=${d.id} device=${d} changed=${devices.reload} newToken=${showToken} />`)}</tbody>
          </table>`}
      </${Loading}>
    </${Page}>`;
}
