//! Which service URLs may receive the bot's token. An activity's `serviceUrl` comes from the
//! (verified) inbound call, but a stored one could have been tampered with, and a token sent to a
//! stranger's host lets them act as the bot: so every call checks the host against an allow list.

use super::ConnectorError;
use reqwest::Url;
use std::fmt;

/// Bot Framework's public-cloud hosts: Teams' regional service URLs and Bot Framework's own.
pub const DEFAULT_ALLOWED_HOSTS: &[&str] = &["smba.trafficmanager.net", "*.botframework.com"];

/// A host pattern could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed service URL host {0:?}: use a host name, or `*.` and a domain")]
pub struct InvalidHostPattern(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com` as `.example.com`: any subdomain, not the domain itself.
    Subdomains(String),
}

impl HostPattern {
    fn parse(text: &str) -> Result<HostPattern, InvalidHostPattern> {
        let text = text.trim().to_ascii_lowercase();
        let invalid = || InvalidHostPattern(text.clone());
        let (pattern, name) = match text.strip_prefix("*.") {
            Some(domain) => (HostPattern::Subdomains(format!(".{domain}")), domain),
            None => (HostPattern::Exact(text.clone()), text.as_str()),
        };
        let valid_name = !name.is_empty()
            && name.split('.').all(|label| !label.is_empty())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'));
        if valid_name {
            Ok(pattern)
        } else {
            Err(invalid())
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(exact) => host == exact,
            HostPattern::Subdomains(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        }
    }
}

/// The hosts the bot's token may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

impl Default for AllowedHosts {
    fn default() -> AllowedHosts {
        AllowedHosts::new(DEFAULT_ALLOWED_HOSTS).expect("the default host patterns are valid")
    }
}

/// A service URL whose host is allowed, ending with `/` so that paths append to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl(Url);

impl ServiceUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl AllowedHosts {
    /// Host names (`smba.trafficmanager.net`) or subdomain wildcards (`*.botframework.com`).
    pub fn new<I, S>(patterns: I) -> Result<AllowedHosts, InvalidHostPattern>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = patterns
            .into_iter()
            .map(|pattern| HostPattern::parse(pattern.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowedHosts { patterns })
    }

    /// Checks a service URL: https to an allowed host, or plain http to an allowed loopback host
    /// (local fakes and tools); no credentials, query or fragment.
    pub fn service_url(&self, url: &str) -> Result<ServiceUrl, ConnectorError> {
        let invalid = |reason: &str| ConnectorError::InvalidServiceUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parsed = Url::parse(url).map_err(|error| invalid(&error.to_string()))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| invalid("it has no host"))?
            .to_ascii_lowercase();
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("it carries credentials"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("it has a query or fragment"));
        }
        let loopback = is_loopback_host(&host);
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(invalid("it is not https")),
        }
        if !self.patterns.iter().any(|pattern| pattern.matches(&host)) {
            return Err(ConnectorError::HostNotAllowed {
                url: url.to_owned(),
            });
        }
        if !parsed.path().ends_with('/') {
            let path = format!("{}/", parsed.path());
            parsed.set_path(&path);
        }
        Ok(ServiceUrl(parsed))
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_allow_teams_and_bot_framework_hosts_only() {
        let hosts = AllowedHosts::default();
        for url in [
            "https://smba.trafficmanager.net/emea/",
            "https://smba.trafficmanager.net/teams",
            "https://europe.webchat.botframework.com/",
            "https://SMBA.trafficmanager.net/amer/",
        ] {
            assert!(hosts.service_url(url).is_ok(), "{url} should be allowed");
        }
        for url in [
            "https://evil.example/",
            "https://smba.trafficmanager.net.evil.example/",
            "https://evilbotframework.com/",
            "https://botframework.com/",
            "http://127.0.0.1:3978/",
        ] {
            assert!(
                matches!(
                    hosts.service_url(url),
                    Err(ConnectorError::HostNotAllowed { .. })
                ),
                "{url} should not be allowed"
            );
        }
    }

    #[test]
    fn plain_http_only_to_loopback_and_nothing_odd() {
        let hosts =
            AllowedHosts::new(["127.0.0.1", "localhost", "smba.trafficmanager.net"]).unwrap();
        assert_eq!(
            hosts
                .service_url("http://127.0.0.1:4000/base")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4000/base/"
        );
        assert!(hosts.service_url("http://localhost:4000/").is_ok());
        for url in [
            "http://smba.trafficmanager.net/emea/",
            "https://user:pass@smba.trafficmanager.net/emea/",
            "https://smba.trafficmanager.net/emea/?x=1",
            "ftp://smba.trafficmanager.net/",
            "not a url",
        ] {
            assert!(
                matches!(
                    hosts.service_url(url),
                    Err(ConnectorError::InvalidServiceUrl { .. })
                ),
                "{url} should be invalid"
            );
        }
    }

    #[test]
    fn patterns_are_checked() {
        assert!(AllowedHosts::new(["*.botframework.com", "a-b.example"]).is_ok());
        for bad in ["", "*.", "*", "a..b", "https://x.example", "x.example/path"] {
            assert!(
                AllowedHosts::new([bad]).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
