//! `/Groups`: the groups the identity provider provisions, with their members, over
//! `sesame_app::scim`'s group use cases.

use super::resource::ScimResource;
use super::{base, record, WHO};
use crate::WebState;
use serde_json::Value;
use sesame_app::scim::{ScimGroup, ScimGroupFields};
use sesame_app::{App, AppError};
use sesame_scim::{group_fields, group_json, GroupResource, ResourceType};
use std::future::Future;

impl ScimResource for ScimGroup {
    const TYPE: ResourceType = ResourceType::Group;
    type Fields = ScimGroupFields;

    fn all(app: &App) -> impl Future<Output = Result<Vec<Self>, AppError>> + Send {
        app.scim_groups(&WHO)
    }

    fn one(app: &App, id: &str) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_group(&WHO, id)
    }

    fn create(
        app: &App,
        fields: ScimGroupFields,
    ) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_create_group(&WHO, fields)
    }

    fn update(
        app: &App,
        id: &str,
        change: impl FnOnce(&Self) -> Result<ScimGroupFields, AppError> + Send,
    ) -> impl Future<Output = Result<Self, AppError>> + Send {
        app.scim_update_group(&WHO, id, change)
    }

    fn delete(app: &App, id: &str) -> impl Future<Output = Result<(), AppError>> + Send {
        app.scim_delete_group(&WHO, id)
    }

    fn to_json(&self, state: &WebState) -> Value {
        let shown = GroupResource {
            group: &self.group,
            members: &self.members,
            pending: &self.pending,
            record: record(&self.record),
        };
        group_json(&shown, &state.app.directory(), &base(state))
    }

    fn read(body: &Value) -> Result<ScimGroupFields, sesame_scim::Error> {
        let f = group_fields(body)?;
        Ok(ScimGroupFields {
            display_name: f.display_name,
            external_id: f.external_id,
            members: f.members,
            attributes: f.attributes,
        })
    }
}
