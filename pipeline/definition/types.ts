import type { SshTarget } from '../builder/ssh-target.js';

/** The image definition (image/image.yaml) after validation and command-line overrides. */
export interface ImageDefinition {
  /** Absolute path of the definition file it was read from. */
  file: string;
  /** Project root (the folder holding package.json); relative paths resolve against it. */
  root: string;
  flavour: string;
  version: string;
  freebsd: {
    /** As written, e.g. "13.0", "13.0-RELEASE", "14.3-p2". */
    release: string;
    /** What `pot create -b` takes: "N.M". */
    potRelease: string;
    major: number;
    minor: number;
    arch: 'amd64' | 'arm64';
    /** 'explicit': asked for with --release; 'default': from the definition's list (skipped, not refused, where the builder cannot run it). */
    requested: 'explicit' | 'default';
    /** Why this end-of-life release may still be built (freebsd.allow_eol or --allow-eol); absent: refused. */
    eolAllowance?: string;
  };
  flavours: {
    /** Absolute path of the flavour sources. */
    source: string;
    installDir: string;
    before: string[];
    /** Resolved chain: X, X+1..X+3 that exist, X+4 last. */
    chain: string[];
  };
  pot: { network: PotNetwork };
  export: { compression: number; output: string };
  sign: { key?: string; publicKey?: string };
  publish: { to?: string; publicUrl?: string };
  /** Where pot runs: undefined = this machine, else an SSH builder (`builder:` / --builder). */
  builder?: SshTarget;
  /** `<flavour>-<arch>-<major>_<minor>` */
  potName: string;
  /** The export tag: the version. */
  tag: string;
  /** Where the version came from when not the file (the command line's --tag), for messages. */
  versionSource?: string;
}

/**
 * Network types the build can create its pot with. pot's other two need more
 * than `-N`: `alias` a host address (`-i`), `private-bridge` a bridge (`-B`);
 * `pot create` refuses them without (network.sh, _validate_network_param).
 */
export const POT_NETWORKS = ['inherit', 'public-bridge'] as const;
export type PotNetwork = (typeof POT_NETWORKS)[number];
export const ARCHES = ['amd64', 'arm64'] as const;

/** Command-line overrides; undefined means "keep the file's value". */
export interface DefinitionOverrides {
  /** One release (nomad-job --release); builds use `releases`. */
  release?: string;
  /** Repeated --release: build exactly these, in this order. */
  releases?: string[];
  /** --allow-eol REASON: build end-of-life releases anyway, for this reason. */
  allowEol?: string;
  arch?: string;
  version?: string;
  output?: string;
  compression?: string;
  network?: string;
  flavourDir?: string;
  /** pot's flavour folder on the builder (flavours.install_dir). */
  installDir?: string;
  signKey?: string;
  publicKey?: string;
  publishTo?: string;
  publicUrl?: string;
  /** --builder ssh://[user@]host[:port] or local */
  builder?: string;
}
