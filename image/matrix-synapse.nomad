# Nomad job for the pot image matrix-synapse-nomad-amd64-14_5 0.11.0 (Matrix Synapse).
# Written by `pot-image nomad-job`; image/README.md explains each part.
# The secrets come from the Nomad Variable nomad/jobs/matrix-synapse; create it first:
#   nomad var put nomad/jobs/matrix-synapse MYSHAREDSECRET=... SMTPPASS=...
job "matrix-synapse" {
  datacenters = ["dc1"]
  type        = "service"

  group "matrix" {
    count = 1

    # Static host ports: ACME (HTTP-01) needs 80, clients 443, federation 8448.
    network {
      port "http" { static = 80 }
      port "https" { static = 443 }
      port "matrix" { static = 8448 }
    }

    task "synapse" {
      driver = "pot"

      config {
        image    = "https://images.example.org/matrix-synapse-nomad/"
        pot      = "matrix-synapse-nomad-amd64-14_5"
        tag      = "0.11.0"
        command  = "/usr/local/bin/cook"
        # Parameters arrive through env and the secrets file (below): the driver joins args
        # into one unquoted command line, so values are not passed here.
        args     = []
        # The control user's public key (CONTROLUSER); the file must exist on the Nomad client.
        copy     = ["/root/.ssh/id_rsa.pub:/root/importauthkey"]
        # Persistent data: the host's /mnt/matrixdata is /mnt inside the jail, where cook keeps it.
        mount    = ["/mnt/matrixdata:/mnt"]
        port_map = {
          http   = "80"
          https  = "443"
          matrix = "8448"
        }
      }

      env {
        DOMAIN             = "example.com"
        ALERTEMAIL         = "admin@example.com"
        ENABLEREGISTRATION = "false"
        SMTPHOST           = "smtp.example.com"
        SMTPPORT           = "587"
        SMTPUSER           = "matrix@example.com"
        SMTPFROM           = "matrix@example.com"
        NOSSL              = "false"
        CONTROLUSER        = "true"
        SSLEMAIL           = "admin@example.com"
      }

      # Secrets: rendered from the Nomad Variable into the task's secrets folder, which the
      # pot driver mounts at /secrets; cook reads /secrets/matrix-synapse.env literally, so any
      # character works. Not env = true: the driver's set-env would split and expand values.
      template {
        data        = <<EOH
{{ with nomadVar "nomad/jobs/matrix-synapse" -}}
MYSHAREDSECRET={{ .MYSHAREDSECRET }}
SMTPPASS={{ .SMTPPASS }}
{{ end -}}
EOH
        destination = "secrets/matrix-synapse.env"
        env         = false
        change_mode = "restart"
      }

      service {
        name = "matrix-synapse"
        port = "http"
        tags = ["matrix", "synapse"]

        check {
          name     = "health"
          type     = "http"
          path     = "/health"
          interval = "30s"
          timeout  = "5s"

          # The first start issues certificates and creates the database: give it time.
          check_restart {
            limit           = 3
            grace           = "600s"
            ignore_warnings = false
          }
        }
      }

      # Synapse asks for about 1 GB of RAM (image/README.md, "The Nomad job", says why).
      resources {
        cpu    = 1000
        memory = 1024
      }
    }
  }
}
