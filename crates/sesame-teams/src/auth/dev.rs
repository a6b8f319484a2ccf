//! Which inbound authentication runs: Bot Framework's tokens, or, for local tools that cannot sign
//! (the Agents Playground), none at all on loopback only.

use super::{AuthError, BotAuth, VerifiedCaller};
use crate::activity::Activity;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The unauthenticated development mode was asked for where it would be unsafe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevModeRefused {
    #[error("unauthenticated Teams development mode needs a loopback listen address, not {0}")]
    NotLoopback(SocketAddr),
    #[error(
        "unauthenticated Teams development mode cannot be combined with a configured app password"
    )]
    AppPasswordConfigured,
}

/// How `POST /teams/messages` authenticates its callers.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    /// Bot Framework's signed tokens; the only mode for anything reachable from elsewhere.
    Verified(Arc<BotAuth>),
    /// No token at all, for callers on loopback; see [`InboundAuth::loopback_without_auth`].
    LoopbackWithoutAuth,
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

impl InboundAuth {
    /// The development mode, allowed only when Sesame listens on a loopback address (never
    /// `0.0.0.0`) and has no app password, so that a real bot's endpoint can never run it.
    pub fn loopback_without_auth(
        listen: SocketAddr,
        app_password_configured: bool,
    ) -> Result<InboundAuth, DevModeRefused> {
        if app_password_configured {
            return Err(DevModeRefused::AppPasswordConfigured);
        }
        if !is_loopback(listen.ip()) {
            return Err(DevModeRefused::NotLoopback(listen));
        }
        tracing::warn!(%listen, "Teams calls are NOT authenticated (loopback development mode)");
        Ok(InboundAuth::LoopbackWithoutAuth)
    }

    pub fn is_development(&self) -> bool {
        matches!(self, InboundAuth::LoopbackWithoutAuth)
    }

    /// Checks one call. `peer` is the connection's remote address: the development mode also
    /// refuses any caller that is not on loopback. Returns who called, or `None` in development
    /// mode, where nobody is verified.
    pub async fn check(
        &self,
        peer: IpAddr,
        authorization: Option<&str>,
        activity: &Activity,
    ) -> Result<Option<VerifiedCaller>, AuthError> {
        match self {
            InboundAuth::Verified(auth) => auth.verify(authorization, activity).await.map(Some),
            InboundAuth::LoopbackWithoutAuth if is_loopback(peer) => Ok(None),
            InboundAuth::LoopbackWithoutAuth => Err(AuthError::NotLoopback(peer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::parse_activity;

    #[test]
    fn development_mode_needs_loopback_and_no_password() {
        let loopback: SocketAddr = "127.0.0.1:3978".parse().unwrap();
        let ipv6: SocketAddr = "[::1]:3978".parse().unwrap();
        let everywhere: SocketAddr = "0.0.0.0:3978".parse().unwrap();
        let lan: SocketAddr = "192.168.1.4:3978".parse().unwrap();
        assert!(InboundAuth::loopback_without_auth(loopback, false)
            .unwrap()
            .is_development());
        assert!(InboundAuth::loopback_without_auth(ipv6, false).is_ok());
        assert_eq!(
            InboundAuth::loopback_without_auth(everywhere, false).unwrap_err(),
            DevModeRefused::NotLoopback(everywhere)
        );
        assert!(InboundAuth::loopback_without_auth(lan, false).is_err());
        assert_eq!(
            InboundAuth::loopback_without_auth(loopback, true).unwrap_err(),
            DevModeRefused::AppPasswordConfigured
        );
    }

    #[tokio::test]
    async fn development_mode_refuses_remote_callers() {
        let auth =
            InboundAuth::loopback_without_auth("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let activity = parse_activity(
            br#"{"type":"message","serviceUrl":"http://127.0.0.1:1/","channelId":"msteams"}"#,
        )
        .unwrap();
        assert_eq!(
            auth.check("127.0.0.1".parse().unwrap(), None, &activity)
                .await,
            Ok(None)
        );
        assert_eq!(
            auth.check("::ffff:127.0.0.1".parse().unwrap(), None, &activity)
                .await,
            Ok(None)
        );
        let remote: IpAddr = "10.0.0.8".parse().unwrap();
        assert_eq!(
            auth.check(remote, None, &activity).await,
            Err(AuthError::NotLoopback(remote))
        );
    }
}
