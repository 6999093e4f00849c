# The multi-region layout on Google Cloud: one Cloud Run node service per region
# behind one global external HTTPS load balancer. State lives in GCS:
#   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=ruvstream"
terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }

  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.primary_region
}
