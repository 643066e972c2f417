// What the Nomad job of this image must say, in one place: render.ts writes it, check.ts checks it.

/** cook, the image's start command (set by the flavour's +4 step). */
export const COOK = '/usr/local/bin/cook';
/** cook keeps all state under /mnt inside the jail; the host folder is the operator's ZFS dataset. */
export const DATA_IN_JAIL = '/mnt';
export const DATA_ON_HOST = '/mnt/matrixdata';
/** Where cook picks up the control user's public key (CONTROLUSER=true). */
export const CONTROL_KEY_IN_JAIL = '/root/importauthkey';
export const DEFAULT_CONTROL_KEY = '/root/.ssh/id_rsa.pub';
export const JOB_NAME = 'matrix-synapse';
/** Nomad gives a job's tasks read access to variables under nomad/jobs/<job>. */
export const VARIABLE_PATH = `nomad/jobs/${JOB_NAME}`;
export const HEALTH_PATH = '/health';
/**
 * The secrets template's destination in the task folder. nomad-pot-driver mounts the task's
 * secrets/ folder at /secrets in the jail, where cook reads this file literally (KEY=VALUE).
 */
export const PARAMS_FILE_DESTINATION = 'secrets/matrix-synapse.env';
export const PARAMS_FILE_IN_JAIL = '/secrets/matrix-synapse.env';

/** Group port label -> port inside the jail (nginx 80/443, federation 8448). */
export const PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', matrix: '8448' };

/**
 * Resources. Synapse's installation guide asks for at least 1 GB of free RAM to join large
 * public rooms; potluck's 0.10.2 job used the same 1024 MB / 1000 MHz. A small sqlite-backed
 * server (a handful of users) stays below that; raise memory for busy or heavily federated servers.
 */
export const RESOURCES = { cpu: 1000, memory: 1024 } as const;
