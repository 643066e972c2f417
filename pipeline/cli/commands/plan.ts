// pot-image plan: the build's commands grouped by step, without running them (= build --dry-run).
import type { Command } from '../command.js';
import { buildCommand, buildOptions, buildUsage } from './build.js';

const { 'dry-run': _dryRun, ...options } = buildOptions;

const command: Command = {
  name: 'plan',
  summary: 'print the commands of the build, in order, without running them (any OS, no root)',
  usage: buildUsage('plan'),
  options,
  json: true,
  cleansUpOnSignal: true,
  run: (args) => buildCommand(args, true),
};
export default command;
