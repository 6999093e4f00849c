# One global external HTTPS load balancer: anycast address, managed certificate,
# a backend service with every region's serverless NEG. The load balancer sends a
# client to the nearest region with capacity and away from a failing one.

resource "google_compute_global_address" "edge" {
  project = var.project_id
  name    = "ruvstream-edge"
}

resource "google_compute_managed_ssl_certificate" "edge" {
  project = var.project_id
  name    = "ruvstream-edge"

  managed {
    domains = [var.domain]
  }
}

resource "google_compute_ssl_policy" "edge" {
  project         = var.project_id
  name            = "ruvstream-edge"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_security_policy" "edge" {
  project = var.project_id
  name    = "ruvstream-edge"

  rule {
    action   = "deny(403)"
    priority = 1000
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
    description = "Block Log4j2 message lookups (CVE-2021-44228) at the edge."
  }

  rule {
    action   = "allow"
    priority = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    description = "Default: allow; admission and rate limits are the router's and the node's."
  }
}

resource "google_compute_backend_service" "node" {
  project               = var.project_id
  name                  = "ruvstream-node"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.edge.id

  dynamic "backend" {
    for_each = module.region
    content {
      group = backend.value.neg_id
    }
  }

  # Eject a region's backend after 5 consecutive 5xx, for 30 s, at most half of them.
  outlier_detection {
    consecutive_errors = 5
    interval {
      seconds = 10
    }
    base_ejection_time {
      seconds = 30
    }
    max_ejection_percent = 50
  }

  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

resource "google_compute_url_map" "edge" {
  project         = var.project_id
  name            = "ruvstream-edge"
  default_service = google_compute_backend_service.node.id
}

resource "google_compute_target_https_proxy" "edge" {
  project          = var.project_id
  name             = "ruvstream-edge"
  url_map          = google_compute_url_map.edge.id
  ssl_certificates = [google_compute_managed_ssl_certificate.edge.id]
  ssl_policy       = google_compute_ssl_policy.edge.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "ruvstream-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.edge.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.edge.id
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "redirect" {
  project = var.project_id
  name    = "ruvstream-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  project = var.project_id
  name    = "ruvstream-redirect"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  project               = var.project_id
  name                  = "ruvstream-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.edge.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}
