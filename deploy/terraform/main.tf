locals {
  services = [
    "run.googleapis.com",
    "compute.googleapis.com",
    "secretmanager.googleapis.com",
    "monitoring.googleapis.com",
  ]
}

resource "google_project_service" "enabled" {
  for_each = toset(local.services)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# The identity of every node instance: reads the keys secret, writes metrics and logs.
resource "google_service_account" "node" {
  project      = var.project_id
  account_id   = "ruvstream-node"
  display_name = "ruvstream node"
}

resource "google_secret_manager_secret_iam_member" "node_keys" {
  project   = var.project_id
  secret_id = var.api_keys_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.node.email}"
}

resource "google_project_iam_member" "node_metrics" {
  for_each = toset(["roles/monitoring.metricWriter", "roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.node.email}"
}

module "region" {
  source   = "./modules/region"
  for_each = toset(var.regions)

  project_id              = var.project_id
  region                  = each.value
  image                   = var.image
  service_account_email   = google_service_account.node.email
  nats_url                = var.nats_urls[each.value]
  bootstrap_peer          = lookup(var.bootstrap_peers, each.value, "")
  stream                  = var.stream
  min_instances           = lookup(var.min_instances, each.value, var.default_min_instances)
  max_instances           = var.max_instances
  concurrency             = var.concurrency
  request_timeout_seconds = var.request_timeout_seconds
  cpu                     = var.cpu
  memory                  = var.memory
  data_dir_size           = var.data_dir_size
  api_keys_secret         = var.api_keys_secret
  network                 = var.network

  depends_on = [google_project_service.enabled, google_secret_manager_secret_iam_member.node_keys]
}
