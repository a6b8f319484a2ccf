//! Signing in to the web portal: server-side sessions (the browser holds only a random id), the
//! OpenID Connect sign-ins under way (`state`, `nonce` and the PKCE verifier), and who a signed-in
//! identity is in the directory. The web layer speaks HTTP and OpenID Connect; this module decides
//! what is stored and who is let in.

use crate::tokens::hash_token;
use crate::{App, AppError, Principal};
use rand::RngCore;
use sesame_core::{Span, Timestamp, UserId};
use sesame_store::portal::{PortalLogin, PortalSession};

/// A session that was just started: the only time its id exists outside the browser.
#[derive(Debug, Clone)]
pub struct StartedSession {
    /// The cookie value. Never stored: the store keeps its hash.
    pub id: String,
    pub expires_at: Timestamp,
}

/// The person behind a session cookie, with the token every form of that session must carry.
#[derive(Debug, Clone)]
pub struct PortalVisitor {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// The secrets of an OpenID Connect sign-in, to put in the authorization request.
#[derive(Debug, Clone)]
pub struct LoginSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A sign-in the provider answered, as it was begun.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
}

/// Why a signed-in identity may not use Sesame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRefusal {
    /// Nobody in the directory has this value (an email, by default).
    Unknown(String),
    /// The person is in the directory but deactivated.
    Inactive(UserId),
}

/// 32 random bytes from the operating system, as 64 hex digits: unguessable, and safe in cookies,
/// URLs and PKCE verifiers (RFC 7636 allows 43 to 128 such characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl App {
    /// Starts a session for an active person.
    pub async fn start_portal_session(
        &self,
        user: &UserId,
        lifetime: Span,
    ) -> Result<StartedSession, AppError> {
        let principal = self.principal(user)?;
        let now = self.now();
        // Ended sessions and abandoned sign-ins are forgotten as new ones start.
        self.store().delete_expired_portal_rows(now).await?;
        let id = random_secret();
        let expires_at = now.plus(lifetime);
        self.store()
            .create_portal_session(&PortalSession {
                id_hash: hash_token(&id),
                user: principal.user,
                csrf_token: random_secret(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(StartedSession { id, expires_at })
    }

    /// The visitor behind a session id; `None` when the session is unknown, has ended, or its
    /// person has since been deactivated.
    pub async fn portal_session(&self, id: &str) -> Result<Option<PortalVisitor>, AppError> {
        if id.is_empty() || id.len() > 128 {
            return Ok(None);
        }
        let Some(session) = self.store().portal_session(&hash_token(id)).await? else {
            return Ok(None);
        };
        if session.expires_at <= self.now() {
            return Ok(None);
        }
        match self.principal(&session.user) {
            Ok(principal) => Ok(Some(PortalVisitor {
                principal,
                csrf_token: session.csrf_token,
                expires_at: session.expires_at,
            })),
            Err(AppError::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Signs a session out. Unknown ids are fine: signing out twice changes nothing.
    pub async fn end_portal_session(&self, id: &str) -> Result<(), AppError> {
        if !id.is_empty() && id.len() <= 128 {
            self.store().delete_portal_session(&hash_token(id)).await?;
        }
        Ok(())
    }

    /// Begins an OpenID Connect sign-in that must finish within `lifetime`; `return_to` is the
    /// portal path to show afterwards.
    pub async fn begin_portal_login(
        &self,
        return_to: &str,
        lifetime: Span,
    ) -> Result<LoginSecrets, AppError> {
        // Abandoned sign-ins are forgotten as new ones begin, so visits to the sign-in page
        // cannot pile rows up.
        self.store().delete_expired_portal_rows(self.now()).await?;
        let secrets = LoginSecrets {
            state: random_secret(),
            nonce: random_secret(),
            pkce_verifier: random_secret(),
        };
        self.store()
            .create_portal_login(&PortalLogin {
                state_hash: hash_token(&secrets.state),
                nonce: secrets.nonce.clone(),
                pkce_verifier: secrets.pkce_verifier.clone(),
                return_to: return_to.to_owned(),
                expires_at: self.now().plus(lifetime),
            })
            .await?;
        Ok(secrets)
    }

    /// Takes the sign-in that `state` began, once; `None` for an unknown, used or expired state.
    pub async fn finish_portal_login(&self, state: &str) -> Result<Option<PendingLogin>, AppError> {
        if state.is_empty() || state.len() > 128 {
            return Ok(None);
        }
        let Some(login) = self.store().take_portal_login(&hash_token(state)).await? else {
            return Ok(None);
        };
        if login.expires_at <= self.now() {
            return Ok(None);
        }
        Ok(Some(PendingLogin {
            nonce: login.nonce,
            pkce_verifier: login.pkce_verifier,
            return_to: login.return_to,
        }))
    }

    /// The directory person a verified identity stands for: `value` is the configured claim's
    /// value (an email by default), matched to a person's email, else to their id.
    pub fn person_for_sign_in(&self, value: &str) -> Result<Principal, SignInRefusal> {
        let value = value.trim();
        let directory = self.directory();
        let person = directory
            .user_by_email(value)
            .or_else(|| UserId::new(value).ok().and_then(|id| directory.user(&id)));
        let Some(person) = person else {
            return Err(SignInRefusal::Unknown(value.to_owned()));
        };
        self.principal(&person.id)
            .map_err(|_| SignInRefusal::Inactive(person.id.clone()))
    }
}
