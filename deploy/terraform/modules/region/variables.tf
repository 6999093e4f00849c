variable "project_id" {
  description = "Project of the service."
  type        = string
}

variable "region" {
  description = "Cloud Run region (a ruvstream.geo region name)."
  type        = string
}

variable "image" {
  description = "Container image of the first deploy."
  type        = string
}

variable "service_account_email" {
  description = "Identity of the instances."
  type        = string
}

variable "nats_url" {
  description = "NATS JetStream URL this region's instances use."
  type        = string
}

variable "bootstrap_peer" {
  description = "URL of a durable node a new instance seeds its data dir from; empty: replay the stream."
  type        = string
  default     = ""
}

variable "stream" {
  description = "JetStream stream of the op records."
  type        = string
}

variable "min_instances" {
  description = "Warm instances."
  type        = number
}

variable "max_instances" {
  description = "Instance ceiling."
  type        = number
}

variable "concurrency" {
  description = "Concurrent requests per instance (at most 1000)."
  type        = number
}

variable "request_timeout_seconds" {
  description = "Request (and stream) lifetime limit, at most 3600."
  type        = number
}

variable "cpu" {
  description = "vCPUs per instance."
  type        = string
}

variable "memory" {
  description = "Memory per instance."
  type        = string
}

variable "data_dir_size" {
  description = "Size of the in-memory data dir."
  type        = string
}

variable "api_keys_secret" {
  description = "Secret Manager secret with keys.json."
  type        = string
}

variable "network" {
  description = "VPC network; the subnetwork is ruvstream-<region>."
  type        = string
}
