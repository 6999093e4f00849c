variable "project_id" {
  description = "Google Cloud project that holds every region."
  type        = string
}

variable "primary_region" {
  description = "Region of project-wide resources and the first canary."
  type        = string
  default     = "us-central1"
}

# The 15 regions of ruvstream.geo (src/ruvstream/geo/_regions.py), hubs first in
# each continent. A deployment may run fewer: list only those.
variable "regions" {
  description = "Regions that run a node service."
  type        = list(string)
  default = [
    "us-central1",
    "us-east1",
    "us-west1",
    "northamerica-northeast1",
    "southamerica-east1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-north1",
    "me-west1",
    "asia-northeast1",
    "asia-southeast1",
    "asia-east1",
    "asia-south1",
    "australia-southeast1",
  ]
}

variable "nats_urls" {
  description = "NATS JetStream client URL per region (a JetStream supercluster spans them)."
  type        = map(string)

  validation {
    condition     = alltrue([for url in values(var.nats_urls) : can(regex("^(nats|tls)://", url))])
    error_message = "Each NATS URL starts with nats:// or tls://."
  }
}

variable "bootstrap_peers" {
  description = "Per region, the URL of a durable node a new instance seeds its data dir from (empty: replay the stream)."
  type        = map(string)
  default     = {}
}

variable "stream" {
  description = "JetStream stream that carries the op records (shared by all regions)."
  type        = string
  default     = "ruvstream-ops"
}

variable "image" {
  description = "Container image of the first deploy; the canary pipeline owns the image after that."
  type        = string
}

variable "min_instances" {
  description = "Warm instances per region (billed while idle). Regions not listed use default_min_instances."
  type        = map(number)
  default = {
    "us-central1"     = 4
    "europe-west1"    = 4
    "asia-northeast1" = 4
  }
}

variable "default_min_instances" {
  description = "Warm instances in a region not listed in min_instances."
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Instance ceiling per region: the budget's hard stop."
  type        = number
  default     = 200
}

variable "concurrency" {
  description = "Concurrent requests (an open stream is one) per instance; Cloud Run allows at most 1000."
  type        = number
  default     = 1000

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "Cloud Run takes 1 to 1000 concurrent requests per instance."
  }
}

variable "request_timeout_seconds" {
  description = "Longest a request or stream lives before Cloud Run cuts it (at most 3600); the SDK reconnects."
  type        = number
  default     = 3600

  validation {
    condition     = var.request_timeout_seconds <= 3600
    error_message = "Cloud Run cuts requests at 60 minutes at most."
  }
}

variable "cpu" {
  description = "vCPUs per instance."
  type        = string
  default     = "4"
}

variable "memory" {
  description = "Memory per instance, including the in-memory data dir."
  type        = string
  default     = "16Gi"
}

variable "data_dir_size" {
  description = "Size limit of the in-memory data dir (counted against memory)."
  type        = string
  default     = "8Gi"
}

variable "api_keys_secret" {
  description = "Secret Manager secret (name) that holds keys.json."
  type        = string
  default     = "ruvstream-api-keys"
}

variable "network" {
  description = "VPC network the instances reach NATS and the bootstrap peers through."
  type        = string
  default     = "ruvstream"
}

variable "domain" {
  description = "Public host name served by the global load balancer."
  type        = string
}

variable "log_sample_rate" {
  description = "Fraction of load balancer requests logged."
  type        = number
  default     = 0.1
}
