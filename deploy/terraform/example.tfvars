# Example values: copy to <env>.tfvars and run
#   terraform plan -var-file=<env>.tfvars
project_id = "ruvstream-prod"
domain     = "search.example.com"
image      = "us-docker.pkg.dev/ruvstream-prod/ruvstream/ruvstream:0.1.0"

# JetStream: one cluster per region, joined into a supercluster.
nats_urls = {
  "us-central1"             = "nats://nats.us-central1.ruvstream.internal:4222"
  "us-east1"                = "nats://nats.us-east1.ruvstream.internal:4222"
  "us-west1"                = "nats://nats.us-west1.ruvstream.internal:4222"
  "northamerica-northeast1" = "nats://nats.northamerica-northeast1.ruvstream.internal:4222"
  "southamerica-east1"      = "nats://nats.southamerica-east1.ruvstream.internal:4222"
  "europe-west1"            = "nats://nats.europe-west1.ruvstream.internal:4222"
  "europe-west2"            = "nats://nats.europe-west2.ruvstream.internal:4222"
  "europe-west3"            = "nats://nats.europe-west3.ruvstream.internal:4222"
  "europe-north1"           = "nats://nats.europe-north1.ruvstream.internal:4222"
  "me-west1"                = "nats://nats.me-west1.ruvstream.internal:4222"
  "asia-northeast1"         = "nats://nats.asia-northeast1.ruvstream.internal:4222"
  "asia-southeast1"         = "nats://nats.asia-southeast1.ruvstream.internal:4222"
  "asia-east1"              = "nats://nats.asia-east1.ruvstream.internal:4222"
  "asia-south1"             = "nats://nats.asia-south1.ruvstream.internal:4222"
  "australia-southeast1"    = "nats://nats.australia-southeast1.ruvstream.internal:4222"
}

# New instances seed their data dir from the durable (GKE) node tier of the region.
bootstrap_peers = {
  "us-central1" = "http://node.us-central1.ruvstream.internal:8470"
  "us-east1"    = "http://node.us-east1.ruvstream.internal:8470"
  "us-west1"    = "http://node.us-west1.ruvstream.internal:8470"
}
