//! One set of handlers for every SCIM resource type: list, `.search`, read, create, replace (PUT),
//! patch and delete, over the use cases a [`ScimResource`] names. Users and groups differ only in
//! those use cases and their JSON; everything else (ETags, `If-Match`, projections, paging, status
//! codes) is here once.

use super::error::{parse_body, Refusal, ScimError};
use super::Provisioner;
use crate::WebState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use sesame_app::{App, AppError};
use sesame_scim::patch::{self, PatchRequest};
use sesame_scim::{check_if_match, not_modified, ListQuery, ResourceType, CONTENT_TYPE};
use std::future::Future;

/// A SCIM resource type as the handlers serve it: the app's use cases for it (each as the
/// provisioner), and its JSON both ways.
pub(super) trait ScimResource: Sized + Send + Sync + 'static {
    const TYPE: ResourceType;
    /// What a body sets, as the app's use cases take it.
    type Fields: Send + 'static;

    /// Every resource of the type the provider may see.
    fn all(app: &App) -> impl Future<Output = Result<Vec<Self>, AppError>> + Send;
    fn one(app: &App, id: &str) -> impl Future<Output = Result<Self, AppError>> + Send;
    fn create(
        app: &App,
        fields: Self::Fields,
    ) -> impl Future<Output = Result<Self, AppError>> + Send;
    /// Changes the resource under the app's provisioning lock: `change` receives the current one
    /// and returns the new fields.
    fn update(
        app: &App,
        id: &str,
        change: impl FnOnce(&Self) -> Result<Self::Fields, AppError> + Send,
    ) -> impl Future<Output = Result<Self, AppError>> + Send;
    fn delete(app: &App, id: &str) -> impl Future<Output = Result<(), AppError>> + Send;

    /// The resource as SCIM's JSON, with `meta`.
    fn to_json(&self, state: &WebState) -> Value;
    /// Reads a body (a POST or PUT, or the patched resource) into the fields the app stores.
    fn read(body: &Value) -> Result<Self::Fields, sesame_scim::Error>;
}

/// The type's routes: `/scim/v2/<Type>s`, `.../.search` and `.../{id}`.
pub(super) fn resource_routes<R: ScimResource>(router: Router<WebState>) -> Router<WebState> {
    let at = format!("/scim/v2{}", R::TYPE.endpoint());
    router
        .route(&at, get(list::<R>).post(create::<R>))
        .route(&format!("{at}/.search"), post(list::<R>))
        .route(
            &format!("{at}/{{id}}"),
            get(read::<R>)
                .put(change::<R>)
                .patch(change::<R>)
                .delete(delete::<R>),
        )
}

pub(super) fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// A resource with its ETag and, when created, its location.
fn resource_response(status: StatusCode, body: &Value) -> Response {
    let mut response = scim_response(status, body);
    if let Some(v) = body["meta"]["version"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED {
        if let Some(v) = body["meta"]["location"]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    response
}

fn header_text(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What a list reads: the resources of one type, or, for `POST /.search` at the root, users then
/// groups (`(ScimUser, ScimGroup)`).
pub(super) trait Listed {
    fn all_json(state: &WebState) -> impl Future<Output = Result<Vec<Value>, ScimError>> + Send;
}

impl<R: ScimResource> Listed for R {
    async fn all_json(state: &WebState) -> Result<Vec<Value>, ScimError> {
        let all = R::all(&state.app).await?;
        Ok(all.iter().map(|r| r.to_json(state)).collect())
    }
}

impl<A: Listed, B: Listed> Listed for (A, B) {
    async fn all_json(state: &WebState) -> Result<Vec<Value>, ScimError> {
        let mut all = A::all_json(state).await?;
        all.extend(B::all_json(state).await?);
        Ok(all)
    }
}

/// A list's query: a GET's query string, or the body of a `POST .../.search`.
pub(super) struct Listing(ListQuery);

impl FromRequest<WebState> for Listing {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, ScimError> {
        let query = if req.method() == Method::POST {
            ListQuery::from_search(&parse_body(Bytes::from_request(req, state).await)?)?
        } else {
            ListQuery::from_query(req.uri().query())?
        };
        Ok(Listing(query))
    }
}

/// A list or search: the resources the filter matches, paged, with the attributes asked for.
pub(super) async fn list<R: Listed>(
    _: Provisioner,
    State(state): State<WebState>,
    Listing(q): Listing,
) -> Result<Response, ScimError> {
    let all = R::all_json(&state).await?;
    Ok(scim_response(StatusCode::OK, &q.respond(all)))
}

/// One resource, with `attributes`/`excludedAttributes`; 304 when `If-None-Match` is current.
async fn read<R: ScimResource>(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let resource = R::one(&state.app, &id).await?.to_json(&state);
    let q = ListQuery::from_query(raw.as_deref())?;
    if header_text(&headers, header::IF_NONE_MATCH).is_some_and(|tag| not_modified(tag, &resource))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(resource_response(StatusCode::OK, &q.project(resource)))
}

async fn create<R: ScimResource>(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = R::read(&parse_body(body)?)?;
    let created = R::create(&state.app, fields).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &created.to_json(&state),
    ))
}

/// What a PUT or PATCH asks for: new fields, or operations on the current resource.
enum Change<F> {
    Replace(F),
    Patch(PatchRequest),
}

/// PUT and PATCH: the change is made under the app's provisioning lock, where the current
/// resource is checked against `If-Match` and, for a PATCH, has the operations applied and is read
/// back like a PUT's body.
async fn change<R: ScimResource>(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let body = parse_body(body)?;
    let change = if method == Method::PATCH {
        Change::Patch(PatchRequest::from_json(body)?)
    } else {
        Change::Replace(R::read(&body)?)
    };
    let mut refusal = Refusal::default();
    let new_fields = |current: &R| {
        let mut resource = current.to_json(&state);
        check_if_match(header_text(&headers, header::IF_MATCH), &resource)?;
        match change {
            Change::Replace(fields) => Ok(fields),
            Change::Patch(request) => {
                patch::apply(&mut resource, request, &|path| R::TYPE.knows(path))?;
                Ok(R::read(&resource)?)
            }
        }
    };
    let changed = R::update(&state.app, &id, refusal.guard(new_fields))
        .await
        .map_err(|e| refusal.or(e))?;
    Ok(resource_response(StatusCode::OK, &changed.to_json(&state)))
}

async fn delete<R: ScimResource>(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let current = R::one(&state.app, &id).await?;
        check_if_match(
            header_text(&headers, header::IF_MATCH),
            &current.to_json(&state),
        )?;
    }
    R::delete(&state.app, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
