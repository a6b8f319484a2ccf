//! `/Users`: the people the identity provider provisions, over `sesame_app::scim`'s user use cases.

use super::resource::ScimResource;
use super::{base, record, WHO};
use crate::WebState;
use serde_json::Value;
use sesame_app::scim::{is_placeholder_email, user_name, ScimUser, ScimUserFields};
use sesame_app::{App, AppError};
use sesame_scim::{user_fields, user_json, ResourceType, UserResource};
use std::future::Future;

impl ScimResource for ScimUser {
    const TYPE: ResourceType = ResourceType::User;
    type Fields = ScimUserFields;

    fn all(app: &App) -> impl Future<Output = Result<Vec<Self>, AppError>> + Send {
        app.scim_users(&WHO)
    }

    fn one(app: &App, id: &str) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_user(&WHO, id)
    }

    fn create(
        app: &App,
        fields: ScimUserFields,
    ) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_create_user(&WHO, fields)
    }

    fn update(
        app: &App,
        id: &str,
        change: impl FnOnce(&Self) -> Result<ScimUserFields, AppError> + Send,
    ) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_update_user(&WHO, id, change)
    }

    fn delete(app: &App, id: &str) -> impl Future<Output = Result<(), AppError>> + Send {
        app.scim_delete_user(&WHO, id)
    }

    fn to_json(&self, state: &WebState) -> Value {
        let shown = UserResource {
            user: &self.user,
            user_name: user_name(self),
            placeholder_email: is_placeholder_email(&self.user.email),
            record: record(&self.record),
        };
        user_json(&shown, &state.app.directory(), &base(state))
    }

    fn read(body: &Value) -> Result<ScimUserFields, sesame_scim::Error> {
        let f = user_fields(body)?;
        Ok(ScimUserFields {
            user_name: f.user_name,
            email: f.email,
            display_name: f.display_name,
            active: f.active,
            manager: f.manager,
            external_id: f.external_id,
            attributes: f.attributes,
        })
    }
}
