// The task `config` options of the nomad-pot-driver, as data.
// Source: bsdpot/nomad-pot-driver v0.10.0 — driver/driver.go (taskConfigSpec, the schema Nomad
// validates a job against) and README.md "Task Configuration". The README spells `command` as
// "commad"; the schema, which is what Nomad enforces, says `command`.

export interface PotDriverOption {
  name: string;
  /** HCL type in the driver's schema. */
  type: 'string' | 'list(string)' | 'list(map(string))';
  required: boolean;
  /** What it does, in our words. */
  purpose: string;
}

export const POT_DRIVER_VERSION = '0.10.0';

export const POT_DRIVER_OPTIONS: readonly PotDriverOption[] = [
  { name: 'image', type: 'string', required: true, purpose: 'base URL of the image repository (pot prepare -U)' },
  { name: 'pot', type: 'string', required: true, purpose: 'image name in the repository (pot prepare -p)' },
  { name: 'tag', type: 'string', required: true, purpose: 'image version (pot prepare -t)' },
  { name: 'command', type: 'string', required: false, purpose: 'start command inside the jail' },
  { name: 'args', type: 'list(string)', required: false, purpose: 'appended to command, joined with spaces (needs command)' },
  { name: 'port_map', type: 'list(map(string))', required: false, purpose: 'group port label -> port inside the jail (pot prepare -e)' },
  { name: 'network_mode', type: 'string', required: false, purpose: 'pot network type; default public-bridge' },
  { name: 'mount', type: 'list(string)', required: false, purpose: '"host:jail" read-write folders (pot mount-in)' },
  { name: 'copy', type: 'list(string)', required: false, purpose: '"host:jail" files copied in (pot copy-in)' },
  { name: 'mount_read_only', type: 'list(string)', required: false, purpose: '"host:jail" read-only folders (pot mount-in -r)' },
  { name: 'extra_hosts', type: 'list(string)', required: false, purpose: '"host:IP" lines added to /etc/hosts (pot set-hosts)' },
  { name: 'attributes', type: 'list(string)', required: false, purpose: '"attribute:value" pot attributes (pot set-attribute)' },
];

export const POT_DRIVER_OPTION_NAMES: readonly string[] = POT_DRIVER_OPTIONS.map((o) => o.name);
