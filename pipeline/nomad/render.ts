// Writes the Nomad job (HCL) for one image: repository, pot name, tag, datacenters, parameters.
// image/matrix-synapse.nomad is this function's output for the example parameters.
import {
  COOK, CONTROL_KEY_IN_JAIL, DATA_IN_JAIL, DATA_ON_HOST, HEALTH_PATH, JOB_NAME, PARAMS_FILE_DESTINATION, PARAMS_FILE_IN_JAIL, PORTS,
  RESOURCES, VARIABLE_PATH,
} from './job-spec.js';
import { FILE_ONLY_PARAMETERS, IMAGE_PARAMETERS, neededSecrets } from './parameters.js';

export interface JobOptions {
  repoUrl: string;
  potName: string;
  tag: string;
  datacenters: string[];
  /** Plain parameter values (secrets only when plainEnv). */
  params: Record<string, string>;
  /** Put secrets in env {} instead of reading them from the Nomad Variable. */
  plainEnv?: boolean;
  /** Host path of the control user's public key, copied in when CONTROLUSER=true. */
  controlKey: string;
  /** Let Nomad pick the host ports (behind a proxy that finds the service in Consul). */
  dynamicPorts?: boolean;
  /** Service registration: Consul (Nomad's default, nothing written) or Nomad's own. */
  serviceProvider?: 'consul' | 'nomad';
}

/** The values the shipped example job shows. */
export function exampleParams(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of IMAGE_PARAMETERS) if (p.example !== undefined && !p.secret) values[p.name] = p.example;
  return values;
}

/** An HCL string literal. Values were checked for shell metacharacters; escape interpolation anyway. */
function q(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '$${').replace(/%\{/g, '%%{')}"`;
}

function list(values: string[]): string {
  return `[${values.map(q).join(', ')}]`;
}

export function renderJob(o: JobOptions): string {
  const plain = IMAGE_PARAMETERS.filter((p) => (!p.secret || (o.plainEnv && !p.fileOnly)) && o.params[p.name] !== undefined);
  // With --plain-env the file-only secrets (DBPASSWORD) still come from the Nomad Variable.
  const secrets = neededSecrets(o.params).filter((s) => !o.plainEnv || FILE_ONLY_PARAMETERS.includes(s));
  const width = Math.max(...plain.map((p) => p.name.length), 1);
  const controlUser = o.params.CONTROLUSER === 'true';
  const L: string[] = [];
  L.push(
    `# Nomad job for the pot image ${o.potName} ${o.tag} (Matrix Synapse).`,
    `# Written by \`pot-image nomad-job\`; image/README.md explains each part.`,
  );
  if (secrets.length > 0) {
    L.push(
      `# The secrets come from the Nomad Variable ${VARIABLE_PATH}; create it first:`,
      `#   nomad var put ${VARIABLE_PATH} ${secrets.map((s) => `${s}=...`).join(' ')}`,
    );
  }
  L.push(
    `job "${JOB_NAME}" {`,
    `  datacenters = ${list(o.datacenters)}`,
    `  type        = "service"`,
    ``,
    `  group "matrix" {`,
    `    count = 1`,
    ``,
    ...(o.dynamicPorts
      ? [`    # Host ports chosen by Nomad: a proxy in front finds them through the service.`, `    network {`]
      : [`    # Static host ports: ACME (HTTP-01) needs 80, clients 443, federation 8448.`, `    network {`]),
    ...Object.entries(PORTS).map(([label, port]) => (o.dynamicPorts ? `      port "${label}" {}` : `      port "${label}" { static = ${port} }`)),
    `    }`,
    ``,
    `    task "synapse" {`,
    `      driver = "pot"`,
    ``,
    `      config {`,
    `        image    = ${q(o.repoUrl)}`,
    `        pot      = ${q(o.potName)}`,
    `        tag      = ${q(o.tag)}`,
    `        command  = ${q(COOK)}`,
    `        # Parameters arrive through env and the secrets file (below): the driver joins args`,
    `        # into one unquoted command line, so values are not passed here.`,
    `        args     = []`,
  );
  if (controlUser) {
    L.push(
      `        # The control user's public key (CONTROLUSER); the file must exist on the Nomad client.`,
      `        copy     = [${q(`${o.controlKey}:${CONTROL_KEY_IN_JAIL}`)}]`,
    );
  }
  L.push(
    `        # Persistent data: the host's ${DATA_ON_HOST} is ${DATA_IN_JAIL} inside the jail, where cook keeps it.`,
    `        mount    = [${q(`${DATA_ON_HOST}:${DATA_IN_JAIL}`)}]`,
    `        port_map = {`,
    ...Object.entries(PORTS).map(([label, port]) => `          ${label.padEnd(6)} = ${q(port)}`),
    `        }`,
    `      }`,
    ``,
    `      env {`,
    ...plain.map((p) => `        ${p.name.padEnd(width)} = ${q(o.params[p.name] ?? '')}`),
    `      }`,
  );
  if (secrets.length > 0) {
    L.push(
      ``,
      `      # Secrets: rendered from the Nomad Variable into the task's secrets folder, which the`,
      `      # pot driver mounts at /secrets; cook reads ${PARAMS_FILE_IN_JAIL} literally, so any`,
      `      # character works. Not env = true: the driver's set-env would split and expand values.`,
      `      template {`,
      `        data        = <<EOH`,
      `{{ with nomadVar "${VARIABLE_PATH}" -}}`,
      ...secrets.map((s) => `${s}={{ .${s} }}`),
      `{{ end -}}`,
      `EOH`,
      `        destination = ${q(PARAMS_FILE_DESTINATION)}`,
      `        env         = false`,
      `        change_mode = "restart"`,
      `      }`,
    );
  }
  L.push(
    ``,
    `      service {`,
    ...(o.serviceProvider === 'nomad' ? [`        provider = "nomad"`] : []),
    `        name = ${q(JOB_NAME)}`,
    `        port = "http"`,
    `        tags = ["matrix", "synapse"]`,
    ``,
    `        check {`,
    `          name     = "health"`,
    `          type     = "http"`,
    `          path     = ${q(HEALTH_PATH)}`,
    `          interval = "30s"`,
    `          timeout  = "5s"`,
    ``,
    `          # The first start issues certificates and creates the database: give it time.`,
    `          check_restart {`,
    `            limit           = 3`,
    `            grace           = "600s"`,
    `            ignore_warnings = false`,
    `          }`,
    `        }`,
    `      }`,
    ``,
    `      # Synapse asks for about 1 GB of RAM (image/README.md, "The Nomad job", says why).`,
    `      resources {`,
    `        cpu    = ${RESOURCES.cpu}`,
    `        memory = ${RESOURCES.memory}`,
    `      }`,
    `    }`,
    `  }`,
    `}`,
    ``,
  );
  return L.join('\n');
}
