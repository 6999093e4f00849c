# One region: the node as a Cloud Run service (settings as deploy/cloudrun/service.yaml)
# and the serverless NEG through which the global load balancer reaches it.

resource "google_cloud_run_v2_service" "node" {
  project             = var.project_id
  name                = "ruvstream-node"
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = true

  template {
    service_account                  = var.service_account_email
    timeout                          = "${var.request_timeout_seconds}s"
    max_instance_request_concurrency = var.concurrency
    session_affinity                 = true
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network
        subnetwork = "${var.network}-${var.region}"
      }
    }

    containers {
      name  = "node"
      image = var.image
      args = [
        "serve",
        "--host=0.0.0.0",
        "--port=8470",
        "--data-dir=/var/lib/ruvstream",
        "--api-keys=/etc/ruvstream/keys.json",
        "--region=${var.region}",
        "--bus=nats",
        "--nats-url=${var.nats_url}",
        "--stream=${var.stream}",
        "--max-connections=${var.concurrency}",
        "--drain-seconds=8",
      ]

      ports {
        name           = "http1"
        container_port = 8470
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # Instance-based billing: an open WebSocket keeps an instance active anyway,
        # and the replication consumer runs between requests.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      env {
        name  = "RUVSTREAM_BOOTSTRAP_PEER"
        value = var.bootstrap_peer
      }

      env {
        name  = "RUVSTREAM_DATA_DIR"
        value = "/var/lib/ruvstream"
      }

      startup_probe {
        period_seconds    = 5
        timeout_seconds   = 3
        failure_threshold = 48
        http_get {
          path = "/health"
          port = 8470
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 5
        failure_threshold = 3
        http_get {
          path = "/health"
          port = 8470
        }
      }

      volume_mounts {
        name       = "data"
        mount_path = "/var/lib/ruvstream"
      }

      volume_mounts {
        name       = "api-keys"
        mount_path = "/etc/ruvstream"
      }
    }

    volumes {
      name = "data"
      empty_dir {
        medium     = "MEMORY"
        size_limit = var.data_dir_size
      }
    }

    volumes {
      name = "api-keys"
      secret {
        secret = var.api_keys_secret
        items {
          version = "latest"
          path    = "keys.json"
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  # The canary pipeline (deploy/pipeline) owns the image and the traffic split.
  lifecycle {
    ignore_changes = [template[0].containers[0].image, traffic, client, client_version]
  }
}

# The load balancer is the only way in (ingress above); it calls without a Google
# identity, so the invoker is allUsers, and the node's API keys authenticate callers.
resource "google_cloud_run_v2_service_iam_member" "edge" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.node.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_compute_region_network_endpoint_group" "node" {
  project               = var.project_id
  name                  = "ruvstream-node-${var.region}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.node.name
  }
}
