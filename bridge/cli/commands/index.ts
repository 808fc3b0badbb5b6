// Every `hookwire` command, in the order `hookwire help` lists them.

import type { Command } from '../command.ts';
import start from './start.ts';
import devices from './devices.ts';
import device from './device.ts';
import integrations from './integrations.ts';
import subscribe from './subscribe.ts';
import publish from './publish.ts';
import logs from './logs.ts';
import history from './history.ts';
import testCommand from './test.ts';
import replay from './replay.ts';
import doctor from './doctor.ts';
import dashboard from './dashboard.ts';
import bin from './bin.ts';
import tokens from './tokens.ts';
import flash from './flash.ts';

const commands: Command[] = [start, devices, device, integrations, subscribe, publish, logs, history, testCommand, replay, doctor, dashboard, bin, tokens, flash];

export default commands;
