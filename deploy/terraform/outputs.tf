output "edge_ip" {
  description = "Anycast address of the global load balancer (point the domain's A record here)."
  value       = google_compute_global_address.edge.address
}

output "services" {
  description = "Cloud Run service name per region."
  value       = { for region, m in module.region : region => m.service_name }
}

output "service_urls" {
  description = "Direct run.app URL per region (reachable from the VPC and the load balancer only)."
  value       = { for region, m in module.region : region => m.service_url }
}
