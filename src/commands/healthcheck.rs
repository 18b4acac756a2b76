//! `wallet healthcheck`: GET the liveness (or readiness) endpoint of a running wallet
//! and exit 0 on 200, 1 otherwise. For container HEALTHCHECKs: no curl in the image.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::config::Settings;

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// URL to GET. Default: http://<server.listen>/health/live, with an unspecified
    /// address (0.0.0.0, ::) replaced by loopback.
    #[arg(long, env = "WALLET_HEALTHCHECK_URL")]
    pub url: Option<String>,
    /// Check /health/ready (the database answers) instead of /health/live.
    #[arg(long)]
    pub ready: bool,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub timeout_ms: u64,
}

/// The URL to check when none is given: the server's own listener, over loopback.
pub fn default_url(listen: SocketAddr, ready: bool) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let path = if ready {
        "/health/ready"
    } else {
        "/health/live"
    };
    format!("http://{}{path}", SocketAddr::new(ip, listen.port()))
}

pub async fn healthcheck(args: HealthcheckArgs, settings: Option<&Settings>) -> ExitCode {
    let url = match (&args.url, settings) {
        (Some(url), _) => url.clone(),
        (None, Some(s)) => default_url(s.server.listen, args.ready),
        (None, None) => unreachable!("settings are loaded when no --url is given"),
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(args.timeout_ms))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => {
            println!("healthy: {url} answered {}", response.status());
            ExitCode::SUCCESS
        }
        Ok(response) => {
            eprintln!("unhealthy: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_url;

    #[test]
    fn an_unspecified_listen_address_is_checked_over_loopback() {
        assert_eq!(
            default_url("0.0.0.0:8080".parse().unwrap(), false),
            "http://127.0.0.1:8080/health/live"
        );
        assert_eq!(
            default_url("[::]:9000".parse().unwrap(), true),
            "http://[::1]:9000/health/ready"
        );
        assert_eq!(
            default_url("10.0.0.5:8080".parse().unwrap(), false),
            "http://10.0.0.5:8080/health/live"
        );
    }
}
