output "service_name" {
  description = "Cloud Run service name."
  value       = google_cloud_run_v2_service.node.name
}

output "service_url" {
  description = "The service's run.app URL."
  value       = google_cloud_run_v2_service.node.uri
}

output "neg_id" {
  description = "Serverless NEG for the global backend service."
  value       = google_compute_region_network_endpoint_group.node.id
}
